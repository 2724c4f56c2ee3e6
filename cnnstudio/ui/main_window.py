"""The main window: canvas in the centre, palette, inspector, summary and messages docked around it.

The window makes the shared pieces once (`AppContext`), then installs every feature
in `_install_features`, each with the context and the faces of the features it
needs; `features` holds their public faces. The window itself only wires them
together and handles files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QCursor, QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QWidget

from cnnstudio.core.bulk import collector_paused
from cnnstudio.core.errors import UserError
from cnnstudio.core.files import remove_stale_temporaries
from cnnstudio.core.project import Project, load_project
from cnnstudio.core.templates import default_project, load_template
from cnnstudio.crashlog import internal_error_message

from . import dialogs, keyboard, preferences, settings, theme
from .actions import build_actions, build_menus, build_toolbar, refresh_icons
from .autosave import Autosaver
from .context import AppContext, CloseGuard
from .crash import CrashHandler
from .document import ProjectDocument
from .editor.commands import ReplaceNetworkCommand
from .editor.editor import NetworkEditor
from .editor.layout import layout_positions, needs_layout
from .icons import app_icon
from .inspect_area import CurrentInput, InspectArea
from .inspector import Inspector
from .inspector.freezing import toggle_frozen
from .messages import Messages, MessagesPanel
from .ml_client import MLClient, Transport
from .ml_thread import MLThread
from .ml_worker import WorkerProcess, WorkerTransport, shared_worker
from .model_source import ModelSource
from .palette import PaletteWidget
from .reflow import ScrollingTabs
from .runs.store import RunStore
from .summary import SummaryModel, SummaryPanel

if TYPE_CHECKING:
    from .codeview import CodePanel
    from .datasets import DatasetPanel
    from .diffs import RunDiffs
    from .experiments import Experiments
    from .explain import ExplainViews
    from .exporting import TransferFeature
    from .inspect import InspectViews
    from .labels import LabelCheckPage
    from .lessons import LessonsPanel
    from .playground import PlaygroundView
    from .runs import RunHistory
    from .training import TrainingController, TrainingPanel, TrainingView

APP_NAME = "CNN Studio"
SELECTION_ACTIONS = ("cut", "copy", "duplicate", "freeze")
# Actions that change the network or replace the project: off while the network is locked.
EDITING_ACTIONS = ("undo", "redo", "cut", "paste", "duplicate", "freeze", "delete", "delete_plain", "auto_layout", "new", "open")
STATE_VERSION = 2  # 1: before panels kept a minimum that shows their text (a squeezed layout is not restored)
PREFERRED_SIZE = QSize(1440, 900)
FRAME_ALLOWANCE = QSize(16, 48)  # a window manager's title bar and borders, which Qt only knows once shown


@dataclass(frozen=True)
class Features:
    """Each feature's public face, for whoever drives the window (tests, scripts, benchmarks)."""

    datasets: DatasetPanel
    training: TrainingController
    training_view: TrainingView
    training_panel: TrainingPanel
    exporting: TransferFeature
    runs: RunHistory
    diffs: RunDiffs
    explain: ExplainViews
    inspect: InspectViews
    labels: LabelCheckPage
    playground: PlaygroundView
    lessons: LessonsPanel
    code: CodePanel
    experiments: Experiments


def ml_transport(parent: QObject, worker: WorkerProcess | None = None) -> Transport:
    """How the window's ML jobs travel: to the worker process (`worker`, else the program's one), or with
    CNNSTUDIO_ML_IN_PROCESS=1 to a thread of this process (for debuggers and profilers)."""
    if os.environ.get("CNNSTUDIO_ML_IN_PROCESS") == "1":
        return MLThread(parent)
    return WorkerTransport(worker or shared_worker(), parent)


class MainWindow(QMainWindow):
    def __init__(self, project: Project | None = None, parent: QWidget | None = None, *,
                 worker: WorkerProcess | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.document = ProjectDocument(project if project is not None else default_project(), self)
        self.ml_transport = ml_transport(self, worker)  # all TensorFlow work runs there, never in this thread
        self.model_source = ModelSource(self)
        ml = MLClient(self.document, self.ml_transport, self.model_source, self)
        self.summary_model = SummaryModel(self.document, self)
        self.editor = NetworkEditor(self.document, self)
        self.tabs = ScrollingTabs(self)  # training and inspection views join as tabs; they scroll on small screens
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setAutoHide(True)
        self.tabs.add_page(self.editor, "Network", scroll=False)
        self.setCentralWidget(self.tabs)

        self.palette_panel = PaletteWidget()
        self.inspector = Inspector(self.document)
        self.summary = SummaryPanel(self.document, self.summary_model)
        self.messages = MessagesPanel(self.document)
        self.docks: dict[str, QDockWidget] = {}
        self.actions_ = build_actions(self)
        self.panels_menu = build_menus(self, self.actions_)
        self.toolbar = build_toolbar(self, self.actions_)
        self.add_panel("palette", "Layers", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_panel("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_panel("summary", "Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.add_panel("messages", "Messages", self.messages, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.docks["summary"], self.docks["messages"], Qt.Orientation.Horizontal)
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.zoom_label)
        self._wire()
        self.context = AppContext(
            shell=self, document=self.document, settings=self.document.settings, ml=ml, model_source=self.model_source,
            runs=RunStore(self.document), current_input=CurrentInput(self),
            messages=Messages(self.messages, self.statusBar()))
        ml.failed.connect(lambda text: self.context.messages.show("error", text))  # a job nobody else answers for
        self._close_guards: tuple[CloseGuard, ...] = ()  # each may keep the window open (False)
        self.features = self._install_features(self.context)
        self.editor.data_facts = self._data_facts  # a dropped backbone takes the data as loaded
        ml.workerLost.connect(self._on_worker_lost)  # after training's own: a run going on is said there
        self.keyboard = keyboard.install(self)  # Edit > Add Layer…, Select Next Layer, Connect Selected Layers, ...
        self.actions_["train_start"].setIconText("Train")  # the main step: named on the toolbar, not an icon only
        self.toolbar.widgetForAction(self.actions_["train_start"]).setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.autosaver = Autosaver(self.document, self, interval_ms=preferences.get("autosave_seconds") * 1000)
        self.crash_handler = CrashHandler(self, keep_work=self.autosaver.save_now)
        self._fit_to_screen()
        self._default_state = self.saveState(STATE_VERSION)
        self.apply_default_sizes()
        self._layout_restored = self._restore_layout()
        self._apply_view_options()
        self._palette_follows_canvas()
        self._update_title()
        self._on_selection([])
        self._fitted = False  # zoomed to fit once, when first shown

    def _install_features(self, context: AppContext) -> Features:
        """Every feature, in the order its panels, tabs and menus appear, with the features it needs."""
        from . import (
            codeview,
            datasets,
            diffs,
            experiments,
            explain,
            exporting,
            inspect,
            labels,
            lessons,
            playground,
            runs,
            training,
        )

        # the Dataset panel: choose, look at, prepare the data; fit the network
        dataset_panel = datasets.install(context)
        # the Training panel and tab: settings, Train/Pause/Stop, live curves and filters
        trainer = training.install(context)
        area = InspectArea(self)  # the Inspect tab, shared by the explanation and inspection views
        # File > Export… and File > Import Keras Model… (also by dropping a file)
        transfer = exporting.install(context)
        # the Runs panel: every training run, compared, reopened, exported (through `transfer`), deleted
        history = runs.install(context, trainer.controller, transfer, area)
        # the Experiments panel and tab: many runs under several settings and seeds, with verdicts
        experimented = experiments.install(context, history)
        # evaluation, saliency and Grad-CAM, what a filter responds to
        explained = explain.install(context, area)
        # filters (live while `trainer` trains), feature maps, drawing, prediction
        inspected = inspect.install(context, area, trainer.controller)
        # What Changed? between two runs of the Runs panel; its pictures open in `explained` and `inspected`
        changes = diffs.install(context, history, area, explained, inspected)
        # "Check these labels" for a folder dataset: relabel or leave out in the project, retrain with `trainer`
        label_check = labels.install(context, area, trainer.controller)
        # the convolution playground tab
        play = playground.install(context)
        # Help > Lessons and the Lessons panel: trains, compares runs, shows views and the playground
        lesson_panel = lessons.install(context, trainer.controller, history, inspected, play, experimented)
        # the Code panel: the network as Keras Python, live; the training script
        code = codeview.install(context)
        self._close_guards = (trainer.controller.close_guard, experimented.controller.close_guard,
                              explained.stop_long_jobs, transfer.may_close)
        return Features(dataset_panel, trainer.controller, trainer.view, trainer.panel, transfer, history,
                        changes, explained, inspected, label_check, play, lesson_panel, code, experimented)

    # ------------------------------------------------------------------ what features may use (context.Shell)
    def main_window(self) -> QMainWindow:
        return self

    def show_tab(self, widget: QWidget) -> None:
        """Bring a view in the centre to the front."""
        self.tabs.setCurrentWidget(widget)

    def dock(self, name: str) -> QDockWidget:
        return self.docks[name]

    def add_action(self, name: str, action: QAction) -> None:
        """Make a feature's action known by name (shortcut lists, tests, lock handling)."""
        self.actions_[name] = action

    def action(self, name: str) -> QAction:
        return self.actions_[name]

    def show_project(self, project: Project) -> None:
        """Open ``project`` in place of the current one (the caller asked about unsaved changes)."""
        self.autosaver.discard()
        self.document.replace_project(project)
        self.editor.view.viewport().repaint()  # the new network in sight now, before the panels' checks run

    def menu(self, name: str) -> QMenu:
        """The top-level menu with object name ``menu_<key>`` for ``name`` ("&Train" -> menu_train),
        created before Help when it is not there yet."""
        key = "menu_" + name.replace("&", "").strip().lower().replace(" ", "_")
        for action in self.menuBar().actions():
            menu = action.menu()
            if menu is not None and menu.objectName() == key:
                return menu
        menu = QMenu(name, self.menuBar())
        menu.setObjectName(key)
        help_menu = self.menuBar().findChild(QMenu, "menu_help")
        self.menuBar().insertMenu(help_menu.menuAction() if help_menu else None, menu)
        return menu

    def add_tab(self, widget: QWidget, title: str) -> int:
        """A view beside the network editor in the centre (Training, Inspect, Playground, ...)."""
        return self.tabs.addTab(widget, title)

    # ------------------------------------------------------------------ panels
    def add_panel(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea, *,
                  beside: str | None = None) -> QDockWidget:
        """Dock a panel; its visibility toggle goes into View > Panels. With ``beside``, it becomes a tab
        behind that panel (which stays in front)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        self.panels_menu.addAction(dock.toggleViewAction())
        if beside is not None:
            self.tabifyDockWidget(self.docks[beside], dock)
            self.docks[beside].raise_()
        return dock

    def apply_default_sizes(self) -> None:
        """Panels in proportion to the window: the canvas keeps at least half of it."""
        width, height = self.width(), self.height()
        palette = self.palette_panel.minimumSizeHint().width()
        right = max(self.docks["inspector"].minimumSizeHint().width(), min(450, int(width * 0.27)))
        self.resizeDocks([self.docks["palette"], self.docks["inspector"]], [palette, right], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["summary"]], [min(230, int(height * 0.2))], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.docks["summary"], self.docks["messages"]], [int(width * 0.55), int(width * 0.45)],
            Qt.Orientation.Horizontal,
        )

    def _palette_follows_canvas(self) -> None:
        """The Layers palette only feeds the canvas: it shows with the Network tab and leaves its
        room to the other tabs (unless closed in View > Panels, which is remembered)."""
        dock = self.docks["palette"]

        def apply(_index: int = 0) -> None:
            dock.setVisible(settings.flag("palette_shown", True) and self.tabs.currentWidget() is self.editor)

        dock.toggleViewAction().triggered.connect(lambda shown: settings.set_flag("palette_shown", shown))
        self.tabs.currentChanged.connect(apply)
        apply()

    def _fit_to_screen(self) -> None:
        """Open at 1440x900 where the screen has room for it, else filling the screen (maximized)."""
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        size = QSize(min(PREFERRED_SIZE.width(), available.width() - FRAME_ALLOWANCE.width()),
                     min(PREFERRED_SIZE.height(), available.height() - FRAME_ALLOWANCE.height()))
        self.resize(size)
        self.move(available.center() - self.rect().center())
        if size != PREFERRED_SIZE:
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)

    def _fits_screen(self, geometry: QRect) -> bool:
        screen = QGuiApplication.screenAt(geometry.center())
        return screen is not None and screen.availableGeometry().adjusted(-8, -8, 8, 8).contains(geometry)

    def _wire(self) -> None:
        a, editor, document = self.actions_, self.editor, self.document
        a["new"].triggered.connect(self.new_project)
        a["open"].triggered.connect(lambda: self.open_project())
        a["save"].triggered.connect(self.save)
        a["save_as"].triggered.connect(lambda: self.save_as())
        a["quit"].triggered.connect(self.close)
        a["cut"].triggered.connect(editor.cut_selection)
        a["copy"].triggered.connect(editor.copy_selection)
        a["paste"].triggered.connect(lambda: editor.paste(editor.context_position))
        a["duplicate"].triggered.connect(editor.duplicate_selection)
        a["delete"].triggered.connect(lambda: editor.delete_selection())
        a["delete_plain"].triggered.connect(lambda: editor.delete_selection(reconnect=False))
        a["freeze"].triggered.connect(
            lambda: toggle_frozen(document, editor.selected_ids() + editor.scene.selected_block_ids()))
        a["select_all"].triggered.connect(editor.select_all)
        a["find_layer"].triggered.connect(lambda: (self.tabs.setCurrentWidget(editor), editor.find_layer()))
        a["group"].triggered.connect(lambda: editor.group_selection())
        a["ungroup"].triggered.connect(editor.ungroup_selection)
        a["repeat_block"].triggered.connect(lambda: editor.repeat_block())
        a["zoom_in"].triggered.connect(editor.zoom_in)
        a["zoom_out"].triggered.connect(editor.zoom_out)
        a["zoom_fit"].triggered.connect(editor.zoom_to_fit)
        a["zoom_reset"].triggered.connect(editor.reset_zoom)
        a["auto_layout"].triggered.connect(editor.auto_layout)
        a["show_shapes"].toggled.connect(self._apply_view_options)
        a["snap"].toggled.connect(self._apply_view_options)
        a["minimap"].toggled.connect(self._apply_view_options)
        a["reset_layout"].triggered.connect(self.reset_layout)
        a["about"].triggered.connect(lambda: dialogs.about(self))
        a["preferences"].triggered.connect(self.show_preferences)
        a["shortcuts"].triggered.connect(self.show_shortcuts)
        editor.context_actions = {
            "node": [a["cut"], a["copy"], a["duplicate"], None, a["freeze"], None, a["group"], a["ungroup"], None,
                     a["delete"], a["delete_plain"]],
            "block": [a["cut"], a["copy"], a["duplicate"], None, a["group"], a["ungroup"], a["repeat_block"], None,
                      a["freeze"], None, a["delete"]],
            "edge": [a["delete"]],
            "canvas": [a["paste"], a["select_all"], a["find_layer"], None, a["auto_layout"], a["zoom_fit"]],
        }
        self.palette_panel.layerActivated.connect(editor.append_layer)
        editor.selectionChanged.connect(self._on_selection)
        editor.scene.nodeActivated.connect(lambda _node: self.inspector.focus_form())
        editor.message.connect(self.show_message)
        editor.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))
        for panel in (self.summary, self.messages):
            panel.layerClicked.connect(lambda node_id: (editor.reveal(node_id), editor.select([node_id], center=True)))
        self.summary.blockClicked.connect(editor.select_block)
        editor.scene.blocksSelected.connect(self._on_blocks_selected)
        self.inspector.summaryWanted.connect(lambda: (self.docks["summary"].show(), self.docks["summary"].raise_()))
        self.messages.countsChanged.connect(self._update_messages_title)
        document.modifiedChanged.connect(lambda _m: self._update_title())
        document.nameChanged.connect(lambda _n: self._update_title())
        document.pathChanged.connect(lambda _p: self._update_title())
        document.lockedChanged.connect(self._apply_lock)
        document.projectReplaced.connect(self.statusBar().clearMessage)  # it spoke of the old network
        document.editRefused.connect(lambda reason: self.statusBar().showMessage(f"Not changed: {reason}", 5000))
        QApplication.clipboard().dataChanged.connect(self._update_paste)
        self._update_paste()

    def _on_selection(self, node_ids: list[str]) -> None:
        self.inspector.show_selection(node_ids)
        self.summary.table.show_layer(node_ids[0] if len(node_ids) == 1 else None)
        editable = not self.document.locked
        for name in SELECTION_ACTIONS:
            self.actions_[name].setEnabled(bool(node_ids) and (editable or name == "copy"))
        self.actions_["delete"].setEnabled(editable and bool(node_ids or self.editor.scene.selected_edges()))
        self.actions_["delete_plain"].setEnabled(editable and bool(node_ids))
        if len(node_ids) == 1:
            node = self.document.network.node(node_ids[0])
            self.statusBar().showMessage(f"{node.id} ({node.type})", 3000)

    def _on_blocks_selected(self, block_ids: list[str]) -> None:
        if block_ids:
            self.actions_["copy"].setEnabled(True)  # a block is copied with its layers and nested blocks
        if block_ids and not self.document.locked:
            for name in ("delete", "delete_plain", "freeze", "cut", "duplicate"):
                self.actions_[name].setEnabled(True)  # a block is deleted, frozen or copied as a whole
        if block_ids and not self.editor.selected_ids():
            self.inspector.show_block(block_ids[0])
            self.summary.table.show_layer(block_ids[0])

    def _data_facts(self) -> tuple[tuple[int, ...] | None, int | None] | None:
        """The images' shape as loaded and, for a classifier's data, the classes (None: not known here)."""
        panel = self.features.datasets
        facts = panel.data_facts()
        if facts is None or panel.info is None:
            return None
        return facts.shape, facts.num_classes if panel.info.task == "classification" else None

    def _update_paste(self) -> None:
        self.actions_["paste"].setEnabled(not self.document.locked and self.editor.can_paste())

    def _apply_lock(self, locked: bool) -> None:
        """While the network is locked (training), nothing may change it, and it shows."""
        if not shiboken6.isValid(self.actions_["undo"]):  # the window is being taken down (a run ended as it closed)
            return
        self.editor.set_locked(locked, self.document.lock_reason)
        self.palette_panel.setEnabled(not locked)
        self.inspector.setEnabled(not locked)
        for name in EDITING_ACTIONS:
            self.actions_[name].setEnabled(not locked)
        for menu_name in ("menu_templates", "menu_replace", "menu_recent"):
            menu = self.findChild(QMenu, menu_name)
            if menu is not None:
                menu.setEnabled(not locked)
        if not locked:
            stack = self.document.undo_stack
            self.actions_["undo"].setEnabled(stack.canUndo())
            self.actions_["redo"].setEnabled(stack.canRedo())
            self._update_paste()
            self._on_selection(self.editor.selected_ids())

    def _update_messages_title(self, errors: int, warnings: int) -> None:
        parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
        parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
        self.docks["messages"].setWindowTitle("Messages" + (f" ({', '.join(parts)})" if parts else ""))

    def _apply_view_options(self) -> None:
        a = self.actions_
        self.editor.scene.set_show_shapes(a["show_shapes"].isChecked())
        self.editor.scene.snap_to_grid = a["snap"].isChecked()
        self.editor.set_minimap_visible(a["minimap"].isChecked())
        for name in ("show_shapes", "snap", "minimap"):
            settings.set_flag(name, a[name].isChecked())

    def _on_worker_lost(self, why: str) -> None:
        if not self.features.training.is_running:
            self.show_message("warning", f"The process that trains and inspects networks stopped unexpectedly "
                                         f"({why}); a new one was started. Your project is as it was.")

    def show_message(self, severity: str, text: str) -> None:
        self.context.messages.show(severity, text)

    def _update_title(self) -> None:
        where = f" ({self.document.path.name})" if self.document.path else ""
        self.setWindowTitle(f"{self.document.name}{where}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_modified)

    # ------------------------------------------------------------------ files
    def show_shortcuts(self) -> None:
        from .help import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_preferences(self) -> preferences.PreferencesDialog:
        dialog = preferences.PreferencesDialog(self, self.set_appearance, self.autosaver, self.context.ml)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def confirm_discard(self) -> bool:
        """True when it is fine to drop the current project (saved, or the user said so)."""
        if not self.document.is_modified:
            return True
        answer = dialogs.ask_save_changes(self, self.document.name)
        if answer == dialogs.SAVE:
            return self.save()
        return answer == dialogs.DISCARD

    def new_project(self) -> None:
        name = dialogs.choose_template(self)
        if name:
            self.new_from_template(name)

    def new_from_template(self, name: str) -> bool:
        if not self.confirm_discard():
            return False
        project = dialogs.template_project(name)
        project.training = preferences.with_default_training(project.training)
        self.show_project(project)
        self.show_message("info", "New empty project: drag layers from the palette onto the canvas"
                          if name == dialogs.EMPTY else f"New project from template '{name}'")
        return True

    def open_project(self, path: str | Path | None = None) -> bool:
        if path is None:
            folder = str(self.document.path.parent) if self.document.path else ""
            path = dialogs.open_file(self, folder)
            if path is None:
                return False
        if not self.confirm_discard():
            return False
        try:
            project = load_project(path)
        except Exception as exc:  # noqa: BLE001 - a file that fails in an unexpected way is still a file not opened
            if not isinstance(exc, UserError):
                exc = UserError(f"{Path(path).name} cannot be opened: {internal_error_message(exc)}")
            if not Path(path).exists():
                settings.remove_recent(path)
            self.show_message("error", str(exc))
            dialogs.show_error(self, "Cannot open project", str(exc))
            return False
        remove_stale_temporaries(path)  # what a save killed midway left beside the file
        with collector_paused():  # a 20,000-layer network makes hundreds of thousands of objects at once
            self.show_project(project)
        settings.add_recent(path)
        self.show_message("info", f"Opened {path}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            suggestion = str(self.document.path or Path.home() / f"{self.document.name}.cnnproj")
            path = dialogs.save_file(self, suggestion)
            if path is None:
                return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.document.save(path)
        except OSError as exc:
            message = f"Cannot save {path}: {exc.strerror or exc}"
            self.show_message("error", message)
            dialogs.show_error(self, "Cannot save project", message)
            return False
        settings.add_recent(saved)
        self.show_message("info", f"Saved {saved}")
        return True

    def replace_network_with_template(self, name: str) -> None:
        """Swap in a template's network as one undoable step (the project keeps its settings)."""
        network = load_template(name).network
        if needs_layout(network):
            for node_id, position in layout_positions(network).items():
                network.move_node(node_id, position)
        self.document.push(
            ReplaceNetworkCommand(self.document.network, network, f"Replace Network with {name}")
        )
        self.editor.fit_on_open()

    # ------------------------------------------------------------------ appearance and layout
    def set_appearance(self, value: str) -> None:
        settings.set_appearance(value)
        theme.apply_appearance(value)
        self._refresh_colors()

    def _refresh_colors(self) -> None:
        refresh_icons(self.actions_)
        self.editor.scene.refresh_colors()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
            self._refresh_colors()
        super().changeEvent(event)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        settings.set_flag("palette_shown", True)
        for name, dock in self.docks.items():
            dock.setVisible(name != "palette" or self.tabs.currentWidget() is self.editor)
        self.apply_default_sizes()

    def _restore_layout(self) -> bool:
        """The layout of the last session, unless it no longer fits this screen (then the defaults)."""
        store = settings.settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if not isinstance(geometry, QByteArray):
            return False
        fitted = (self.geometry(), self.windowState())
        if not self.restoreGeometry(geometry) or not self._fits_screen(self.normalGeometry()):
            self.setWindowState(Qt.WindowState.WindowNoState)
            self.setGeometry(fitted[0])
            self.setWindowState(fitted[1])
            return False
        return isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION)

    def save_layout(self) -> None:
        store = settings.settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(STATE_VERSION))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            if not self._layout_restored:  # the panels in proportion to the size the window opened at
                QTimer.singleShot(0, self.apply_default_sizes)
            QTimer.singleShot(0, self.editor.fit_on_open)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not all(guard() for guard in self._close_guards) or not self.confirm_discard():
            event.ignore()
            return
        self.save_layout()
        self.autosaver.stop()
        self.ml_transport.shutdown()
        self.crash_handler.uninstall()
        event.accept()
