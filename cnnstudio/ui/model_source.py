"""Which model the inspection views look at: a training run's model, or the untrained network."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal


class ModelSource(QObject):
    """The current run directory (holding ``model.keras``), or None for the untrained network.

    The training panel sets it when a run finishes or a run is reopened from the
    history; inspection views listen to ``changed`` and load the model on the ML thread.
    """

    changed = Signal(object)  # Path | None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run_dir: Path | None = None

    @property
    def run_dir(self) -> Path | None:
        return self._run_dir

    def set_run_dir(self, run_dir: str | Path | None) -> None:
        run_dir = None if run_dir is None else Path(run_dir)
        if run_dir != self._run_dir:
            self._run_dir = run_dir
            self.changed.emit(run_dir)
