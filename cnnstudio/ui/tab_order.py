"""Tab goes through a form as a reader does: row by row from the top, left to right in a row.

Qt's own order is the order the controls were made in, which in forms built in steps (rows
added when a layer type is chosen, a "more" section, buttons made first) jumps about.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

ROW_TOLERANCE = 10  # pixels: controls whose middles are this close in height share a row


def controls_in_visual_order(container: QWidget) -> list[QWidget]:
    """The controls Tab can reach in ``container`` (shown, enabled, not inside another control), as read."""
    controls = [w for w in container.findChildren(QWidget)
                if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.focusProxy() is None
                and w.isVisibleTo(container) and w.isEnabled() and not w.isWindow()]

    def middle(w: QWidget) -> tuple[int, int]:
        return w.mapTo(container, w.rect().center()).y(), w.mapTo(container, w.rect().topLeft()).x()

    rows: list[list[QWidget]] = []
    for widget in sorted(controls, key=middle):
        if rows and middle(widget)[0] - middle(rows[-1][0])[0] < ROW_TOLERANCE:
            rows[-1].append(widget)
        else:
            rows.append([widget])
    return [w for row in rows for w in sorted(row, key=lambda w: middle(w)[1])]


def step(container: QWidget, forward: bool) -> bool:
    """Move the keyboard to the next (or previous) control of ``container`` as read; False at either end
    (or when the keyboard is elsewhere), where Qt's own order takes over. Read at each Tab, so rows
    added or hidden since never leave the order stale. For a form's ``focusNextPrevChild``."""
    controls = controls_in_visual_order(container)
    current = QApplication.focusWidget()
    while current is not None and current not in controls and current is not container:
        current = current.parentWidget()
    if current is None or current not in controls:
        return False
    index = controls.index(current) + (1 if forward else -1)
    if not 0 <= index < len(controls):
        return False
    reason = Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
    controls[index].setFocus(reason)
    return True
