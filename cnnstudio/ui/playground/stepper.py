"""First / previous / play / next / last and a slider: moves the kernel one output position at a time."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget
from superqt.utils import signals_blocked

from ..reflow import FlowLayout

PLAY, PAUSE = "Play ▶", "Pause ❚❚"
SPEEDS = {"slow": 900, "normal": 450, "fast": 150}  # milliseconds per step while playing


class Stepper(QWidget):
    """Chooses which output position is explained; ``moved(step)`` fires on every change."""

    moved = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundStepper")
        # Text glyphs rather than the style's icons: they take the palette's text colour, light or dark.
        self.first = self._button("|◀", "First position", "playgroundFirst", lambda: self.set_position(0))
        self.previous = self._button("◀", "Previous position", "playgroundPrevious",
                                     lambda: self.set_position(self.position - 1))
        self.play = self._button(PLAY, "Play: step on by itself", "playgroundPlay", self.toggle_play)
        self.play.setCheckable(True)
        self.next = self._button("▶", "Next position", "playgroundNext",
                                 lambda: self.set_position(self.position + 1))
        self.last = self._button("▶|", "Last position", "playgroundLast", lambda: self.set_position(self.count - 1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("playgroundSlider")
        self.slider.setAccessibleName("Kernel position")
        self.slider.setToolTip("Drag to move the kernel over the input")
        self.slider.valueChanged.connect(self.set_position)
        self.speed = QComboBox()
        self.speed.setObjectName("playgroundSpeed")
        self.speed.setAccessibleName("Play speed")
        self.speed.setToolTip("How fast Play moves on")
        self.speed.addItems(list(SPEEDS))
        self.speed.setCurrentText("normal")
        self.speed.currentTextChanged.connect(lambda name: self.timer.setInterval(SPEEDS[name]))
        self.label = QLabel()
        self.label.setObjectName("playgroundPosition")
        self.timer = QTimer(self)
        self.timer.setInterval(SPEEDS["normal"])
        self.timer.timeout.connect(self._tick)
        buttons, where = QWidget(self), QWidget(self)
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.first, self.previous, self.play, self.next, self.last):
            row.addWidget(widget)
        row = QHBoxLayout(where)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.speed)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setMinimumWidth(120)
        layout = FlowLayout(self)  # narrow: the position and speed go below the slider
        for widget in (buttons, self.slider, where):
            layout.addWidget(widget)
        self.count, self.position = 0, 0
        self.set_count(0)

    def _button(self, text: str, tip: str, name: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        if len(text) <= 2:  # a glyph: a comfortable target; words keep the width they need
            button.setMinimumWidth(34)
        button.setToolTip(tip)
        button.setObjectName(name)
        button.setAutoRaise(True)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def set_count(self, count: int) -> None:
        """How many positions there are; the current one is kept when it still exists."""
        self.count = count
        with signals_blocked(self.slider):
            self.slider.setRange(0, max(count - 1, 0))
        for widget in (self.first, self.previous, self.play, self.next, self.last, self.slider):
            widget.setEnabled(count > 0)
        if count == 0:
            self.stop()
        self.set_position(min(self.position, max(count - 1, 0)), force=True)

    def set_position(self, step: int, force: bool = False) -> None:
        step = max(0, min(int(step), max(self.count - 1, 0)))
        if step == self.position and not force:
            return
        self.position = step
        with signals_blocked(self.slider):
            self.slider.setValue(step)
        self.label.setText(f"position {step + 1} of {self.count}" if self.count else "no positions")
        self.previous.setEnabled(step > 0)
        self.first.setEnabled(step > 0)
        self.next.setEnabled(step < self.count - 1)
        self.last.setEnabled(step < self.count - 1)
        self.moved.emit(step)

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.stop()
            return
        if self.position >= self.count - 1:
            self.set_position(0)
        self.timer.start()
        self.play.setChecked(True)
        self.play.setText(PAUSE)
        self.play.setToolTip("Pause")

    def stop(self) -> None:
        self.timer.stop()
        self.play.setChecked(False)
        self.play.setText(PLAY)
        self.play.setToolTip("Play: step on by itself")

    def _tick(self) -> None:
        if self.position >= self.count - 1:
            self.stop()
        else:
            self.set_position(self.position + 1)
