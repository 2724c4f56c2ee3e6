"""The open project as the editor sees it: the model, its undo stack, its settings and its analysis.

Every panel shares one ``ProjectDocument``. Edits reach the network only through
undo commands pushed here; the network's events are forwarded as Qt signals, and
the analysis (shapes, counts, errors) is recomputed once per change, in core.
Training and dataset settings change through ``settings`` (typed, evented models
of the project's sections); a change marks the project modified.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cnnstudio.core.analysis import Analysis, Analyzer
from cnnstudio.core.files import remove_stale_temporaries
from cnnstudio.core.label_edits import EXCLUDE, RELABEL
from cnnstudio.core.network import Network, NetworkChange
from cnnstudio.core.project import Project, save_project
from cnnstudio.core.project_settings import ProjectSettings

from .editor.layout import layout_positions, needs_layout

UNDOABLE_SETTINGS = frozenset({RELABEL, EXCLUDE})  # changed by undo commands: the undo stack says what needs saving


class ProjectDocument(QObject):
    """One project, its undo history and its always-fresh analysis."""

    networkChanged = Signal(object, list)  # NetworkChange, ids: forwarded from Network.changed
    analysisChanged = Signal(object)  # Analysis
    projectReplaced = Signal()  # a different project was opened: views rebuild
    modifiedChanged = Signal(bool)
    pathChanged = Signal(object)  # Path | None
    nameChanged = Signal(str)
    lockedChanged = Signal(bool)  # the network is read-only (e.g. while it trains)
    editRefused = Signal(str)  # an edit was refused because the network is locked; the reason

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)
        self.undo_stack.cleanChanged.connect(self._emit_modified)
        self.undo_stack.indexChanged.connect(self._on_index_changed)
        self._analyzer = Analyzer()
        self._analysis: Analysis | None = None
        self._announced = False  # views have been sent the current analysis
        self._modified_outside = False
        self.generation = 0  # bumped on every change, for autosave
        self._lock_reason = ""  # non-empty while the network is locked
        self._flush_timer = QTimer(self, singleShot=True, interval=0)
        self._flush_timer.timeout.connect(self.refresh_analysis)
        self.project = project
        self.settings = ProjectSettings(project)
        self._replacing = False
        self.settings.training.changed.connect(self._on_settings_changed)
        self.settings.data.changed.connect(self._on_settings_changed)
        self._prepare(project)
        project.network.changed.connect(self._on_network_changed)

    # ------------------------------------------------------------------ state
    @property
    def network(self) -> Network:
        return self.project.network

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def path(self) -> Path | None:
        return self.project.path

    @property
    def is_modified(self) -> bool:
        return self._modified_outside or not self.undo_stack.isClean()

    def mark_modified(self) -> None:
        """A change outside the undo stack (training settings, dataset) needs saving."""
        self.generation += 1
        if not self._modified_outside:
            self._modified_outside = True
            self._emit_modified()

    @property
    def locked(self) -> bool:
        return bool(self._lock_reason)

    @property
    def lock_reason(self) -> str:
        return self._lock_reason

    def set_locked(self, locked: bool, reason: str = "the network is locked") -> None:
        """Make the network read-only (while it trains, say) or editable again."""
        reason = (reason or "the network is locked") if locked else ""
        if reason != self._lock_reason:
            was = self.locked
            self._lock_reason = reason
            if was != locked:
                self.lockedChanged.emit(locked)

    def analysis(self) -> Analysis:
        """The analysis of the network as it is now (recomputed only when stale)."""
        if self._analysis is None:
            self._analysis = self._analyze()
        return self._analysis

    def batch_size(self) -> int:
        value = self.settings.training.get("batch_size")
        return value if isinstance(value, int) and value > 0 else 64

    # ------------------------------------------------------------------ editing
    def push(self, command: QUndoCommand) -> bool:
        """Run an undoable edit; the analysis is fresh when this returns.

        While the network is locked the edit is refused (``editRefused``) and False returned.
        """
        if self.locked:
            self.editRefused.emit(self._lock_reason)
            return False
        self.undo_stack.push(command)
        self.refresh_analysis()
        return True

    def refresh_analysis(self) -> None:
        """Recompute now if anything changed, and tell the views."""
        self._flush_timer.stop()
        if self._analysis is None or not self._announced:
            self._announced = True
            self.analysisChanged.emit(self.analysis())

    def reanalyze(self) -> None:
        """Check the network again after a change outside it (another dataset, another loss)."""
        self._analysis = None
        self._announced = False
        self.refresh_analysis()

    def replace_project(self, project: Project) -> None:
        """Show another project (New, Open): a fresh history, everything redrawn."""
        self.project.network.changed.disconnect(self._on_network_changed)
        self.undo_stack.clear()
        self._analyzer = Analyzer()
        self.project = project
        self._prepare(project)
        project.network.changed.connect(self._on_network_changed)
        self._analysis = None
        self._announced = False
        self._modified_outside = False
        self.generation += 1
        self.undo_stack.setClean()
        self._replacing = True
        try:
            self.settings.bind(project)  # the settings' views show the new project's
        finally:
            self._replacing = False
        self.projectReplaced.emit()
        self.refresh_analysis()
        self.nameChanged.emit(project.name)
        self.pathChanged.emit(project.path)
        self._emit_modified()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project (atomically); the document becomes unmodified."""
        target = Path(path) if path is not None else self.project.path
        if target is None:
            raise ValueError("the project has no file yet; choose one with Save As")
        old_path = self.project.path
        if path is not None and self.project.name in ("Untitled", ""):
            self.project.name = target.stem
            self.nameChanged.emit(self.project.name)
        remove_stale_temporaries(target)  # a save killed midway left its hidden temporary file here
        save_project(self.project, target)
        self._modified_outside = False
        self.undo_stack.setClean()
        self._emit_modified()
        if old_path != self.project.path:
            self.pathChanged.emit(self.project.path)
        return target

    def set_name(self, name: str) -> None:
        if name and name != self.project.name:
            self.project.name = name
            self.mark_modified()
            self.nameChanged.emit(name)

    # ------------------------------------------------------------------ internals
    def _prepare(self, project: Project) -> None:
        """Give templates and imported networks (no positions) a tidy layout."""
        network = project.network
        if needs_layout(network):
            with network.changed.blocker():
                for node_id, position in layout_positions(network).items():
                    network.move_node(node_id, position)

    def _analyze(self) -> Analysis:
        return self._analyzer.analyze(
            self.network, loss=self.project.training.get("loss"), num_classes=self._num_classes()
        )

    def _num_classes(self) -> int | None:
        name = self.project.dataset.get("name")
        try:
            from cnnstudio.core.datasets import FIXED_NAMES, dataset_info
            from cnnstudio.core.tasks import classifier_classes

            if name not in FIXED_NAMES:
                return None
            info = dataset_info(name)  # a segmentation or regression output is no classifier's
            return classifier_classes(info.task, info.num_classes, self.project.training.get("task", "auto"))
        except Exception:  # an unusable dataset name is the dataset panel's business
            return None

    def _on_settings_changed(self, keys: frozenset[str]) -> None:
        """A setting was edited: the project needs saving; the loss, the dataset and how it is
        prepared decide what the network must fit."""
        if self._replacing:
            return
        if keys <= UNDOABLE_SETTINGS:
            self.generation += 1
            return
        self.mark_modified()
        if keys & {"loss", "task", "name", "normalization"}:
            self.reanalyze()

    def _on_network_changed(self, kind: NetworkChange, ids: Any = (), **_: Any) -> None:
        self.generation += 1
        if kind != NetworkChange.MOVED:
            self._analysis = None
            self._announced = False
            self._flush_timer.start()
        self.networkChanged.emit(kind, list(ids))

    def _on_index_changed(self, _index: int) -> None:
        self.refresh_analysis()

    def _emit_modified(self, *_: Any) -> None:
        self.modifiedChanged.emit(self.is_modified)
