"""The dataset chooser: every registry dataset with its one-line description, plus your own folder or .npz."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from cnnstudio.core.datasets import DatasetInfo, dataset_info, list_datasets, parse_dataset_name
from cnnstudio.core.errors import DatasetError

DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1
PICK_FOLDER, PICK_NPZ = "pick:folder", "pick:npz"
SOURCE_WORDS = {"bundled": "bundled, works offline", "generated": "generated, instant",
                "folder": "your images", "npz": "your arrays"}


def source_text(info: DatasetInfo) -> str:
    """Where a dataset comes from, in a few words ("download once, 170 MB")."""
    if info.source == "download":
        size = f", {info.download_mb:.0f} MB" if info.download_mb else ""
        return f"downloaded once through Keras{size}"
    return SOURCE_WORDS.get(info.source, info.source)


class TwoLineDelegate(QStyledItemDelegate):
    """Popup items as a bold title over a smaller description line."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        if index.data(DESCRIPTION_ROLE):
            size.setHeight(int(QFontMetrics(option.font).height() * 2.4) + 6)
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        description = index.data(DESCRIPTION_ROLE)
        if not description:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        if selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight))
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        rect = option.rect.adjusted(8, 3, -8, -3)
        title_font = QFont(option.font)
        title_font.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(option.font.pointSizeF() * 0.9, 7.0))
        line = QFontMetrics(title_font).height()
        painter.save()
        painter.setPen(text_color)
        painter.setFont(title_font)
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), Qt.AlignmentFlag.AlignLeft,
                         str(index.data(Qt.ItemDataRole.DisplayRole)))
        painter.setFont(small)
        if not selected:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        metrics = QFontMetrics(small)
        painter.drawText(QRect(rect.left(), rect.top() + line + 1, rect.width(), metrics.height()),
                         Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(str(description), Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()


class DatasetChooser(QComboBox):
    """Emits ``chosen(name)`` with a registry name, ``folder:PATH`` or ``npz:PATH``.

    The folder and .npz entries open a file dialog; a cancelled dialog puts the previous
    choice back. Names that cannot be used are reported through ``refused(message)``.
    """

    chosen = Signal(str)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetChooser")
        self.setAccessibleName("Dataset")
        self.setItemDelegate(TwoLineDelegate(self))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self._current = ""
        self._rebuild("")
        self.activated.connect(self._on_activated)

    def _rebuild(self, current: str) -> None:
        self.blockSignals(True)
        self.clear()
        for info in list_datasets():
            if info.source in ("folder", "npz"):
                continue
            self.addItem(info.title, info.name)
            self.setItemData(self.count() - 1, f"{info.description} ({source_text(info)})", DESCRIPTION_ROLE)
            self.setItemData(self.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        kind = _kind(current)
        if kind in ("folder", "npz"):
            try:
                info = dataset_info(current)
                title, description = info.title, info.description
            except DatasetError as exc:
                title, description = f"{kind}: {Path(current.partition(':')[2]).name}", str(exc)
            self.addItem(title, current)
            self.setItemData(self.count() - 1, description, DESCRIPTION_ROLE)
        self.insertSeparator(self.count())
        self.addItem("Image folder…", PICK_FOLDER)
        self.setItemData(self.count() - 1, "Your own pictures: one subfolder per class (PNG, JPEG, BMP, GIF).",
                         DESCRIPTION_ROLE)
        self.addItem("NumPy .npz file…", PICK_NPZ)
        self.setItemData(self.count() - 1, "Arrays x_train and y_train, optionally x_test and y_test.",
                         DESCRIPTION_ROLE)
        index = self.findData(current)
        self.setCurrentIndex(index if index >= 0 else 0)
        self.blockSignals(False)

    def set_current(self, name: str) -> None:
        """Show ``name`` as the current choice (without emitting ``chosen``)."""
        try:
            kind, path = parse_dataset_name(name)
            canonical = f"{kind}:{path}" if path is not None else kind
        except DatasetError:
            canonical = name
        self._current = canonical
        self._rebuild(canonical)

    @property
    def current(self) -> str:
        return self._current

    def _on_activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == PICK_FOLDER:
            name = self._pick_folder()
        elif data == PICK_NPZ:
            name = self._pick_npz()
        else:
            name = data
        if not name:
            self.set_current(self._current)
            return
        self.choose(name)

    def choose(self, name: str) -> bool:
        """Make ``name`` the choice if it can be used; else say why and keep the previous one."""
        try:
            info = dataset_info(name)
        except DatasetError as exc:
            self.set_current(self._current)
            self.refused.emit(str(exc))
            return False
        if info.name != self._current:
            self.set_current(info.name)
            self.chosen.emit(info.name)
        return True

    def _start_folder(self) -> str:
        kind = _kind(self._current)
        if kind in ("folder", "npz"):
            path = Path(self._current.partition(":")[2])
            return str(path if kind == "folder" else path.parent)
        return str(Path.home())

    def _pick_folder(self) -> str | None:
        folder = QFileDialog.getExistingDirectory(self, "Choose an image folder (one subfolder per class)",
                                                  self._start_folder())
        return f"folder:{folder}" if folder else None

    def _pick_npz(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a NumPy .npz file", self._start_folder(),
                                              "NumPy arrays (*.npz);;All files (*)")
        return f"npz:{path}" if path else None


def _kind(name: str) -> str:
    try:
        return parse_dataset_name(name)[0]
    except DatasetError:
        return ""
