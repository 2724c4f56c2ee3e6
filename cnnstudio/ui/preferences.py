"""Preferences: appearance, folders, the Keras backend, CPU/GPU use, default training settings, autosave.

Stored with QSettings under ``prefs/``, except the Keras backend, which ``cnnstudio train``
reads too (`core.user_settings`). TensorFlow reads its thread and GPU settings when it
starts, so ``apply_environment()`` runs at program start, before the ML worker process is
started (it inherits them); changing them takes effect at the next start. Changing the
backend restarts the worker (after the job going on, unless the user says now).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.catalog.training import OPTIMIZERS
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import DEFAULT_TRAINING
from cnnstudio.core.user_settings import BACKEND, set_setting
from cnnstudio.ml.backend import BACKENDS, default_backend

from . import backend_choice, settings
from .backend_choice import NAMES, BackendBox, DeviceProbe

if TYPE_CHECKING:
    from .autosave import Autosaver
    from .ml_client import MLClient

DEFAULTS: dict[str, Any] = {
    "dataset_cache": str(Path.home() / ".keras"),
    "runs_folder": "",  # empty: a runs/ folder next to the project
    "cpu_threads": 0,  # 0: let TensorFlow decide
    "use_gpu": True,
    "gpu_memory_growth": True,
    "autosave_seconds": 30,
    **{f"training/{key}": value for key, value in DEFAULT_TRAINING.items()},
}


def get(key: str) -> Any:
    default = DEFAULTS[key]
    value = settings.settings().value(f"prefs/{key}", default)
    if isinstance(default, bool):
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def put(key: str, value: Any) -> None:
    settings.settings().setValue(f"prefs/{key}", value)


def reset() -> None:
    store = settings.settings()
    store.remove("prefs")
    settings.set_appearance("system")


def default_training() -> dict[str, Any]:
    return {key: get(f"training/{key}") for key in DEFAULT_TRAINING}


def with_default_training(training: dict[str, Any]) -> dict[str, Any]:
    """A template's training settings, with the user's defaults where the template keeps the stock ones."""
    own = {k: v for k, v in training.items() if DEFAULT_TRAINING.get(k, object()) != v}
    return {**default_training(), **own}


def runs_folder(project_path: Path | None) -> Path:
    """Where new runs go: the preference, else ``runs/`` beside the project, else (a project not
    saved yet) ``runs/`` in the user's data folder (``CNNSTUDIO_RUNS_DIR`` overrides that)."""
    chosen = get("runs_folder")
    if chosen:
        return Path(chosen)
    if project_path is not None:
        return Path(project_path).parent / "runs"
    override = os.environ.get("CNNSTUDIO_RUNS_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_path

    return user_data_path("cnnstudio", appauthor=False) / "runs"


def apply_environment(environ: dict[str, str] | None = None) -> None:
    """Pass the CPU/GPU and cache preferences to TensorFlow/Keras through their variables."""
    env = os.environ if environ is None else environ
    env.setdefault("KERAS_HOME", get("dataset_cache"))
    threads = get("cpu_threads")
    if threads > 0:
        env["TF_NUM_INTRAOP_THREADS"] = str(threads)
        env["TF_NUM_INTEROP_THREADS"] = str(max(1, threads // 2))
    if not get("use_gpu"):
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    if get("gpu_memory_growth"):
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")


class PreferencesDialog(QDialog):
    """Edit the preferences; OK stores them, Reset puts every one back to its default."""

    def __init__(self, parent: QWidget, set_appearance: Callable[[str], None], autosaver: Autosaver,
                 ml: MLClient) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.set_appearance = set_appearance
        self.autosaver = autosaver
        self.ml = ml
        self.fields: dict[str, QWidget] = {}
        tabs = QTabWidget()
        tabs.addTab(self._general_tab(), "General")
        tabs.addTab(self._performance_tab(), "CPU && GPU")
        tabs.addTab(self._training_tab(), "Training defaults")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self.load()
        self.finished.connect(lambda _result: self.probe.stop())
        self._ask_for_devices()

    # ------------------------------------------------------------------ tabs
    def _general_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        appearance = QComboBox()
        for value, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            appearance.addItem(label, value)
        self.fields["appearance"] = appearance
        form.addRow("Appearance", appearance)
        form.addRow("Dataset cache folder", self._folder_field("dataset_cache", "where downloaded datasets are kept"))
        runs = self._folder_field("runs_folder", "empty: a runs folder next to each project")
        form.addRow("Runs are stored in", runs)
        autosave = QSpinBox(minimum=5, maximum=3600, suffix=" s")
        autosave.setToolTip("how often a recovery copy of unsaved work is written")
        self.fields["autosave_seconds"] = autosave
        form.addRow("Autosave every", autosave)
        return page

    def _folder_field(self, key: str, hint: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit()
        edit.setPlaceholderText(hint)
        edit.setToolTip(hint)
        browse = QPushButton("Choose…")
        browse.clicked.connect(lambda: self._choose_folder(edit))
        row.addWidget(edit, 1)
        row.addWidget(browse)
        self.fields[key] = edit
        return box

    def _choose_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text() or str(Path.home()))
        if folder:
            edit.setText(folder)

    def _performance_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.backend = BackendBox()
        form.addRow("Keras backend", self.backend)
        override = backend_choice.environment_override()
        if override:
            form.addRow(QLabel(f"KERAS_BACKEND={override} is set in the environment: CNN Studio starts on "
                               f"{NAMES[override]} whatever is chosen here."))
        threads = QSpinBox(minimum=0, maximum=max(1, os.cpu_count() or 1) * 2)
        threads.setSpecialValueText("automatic")
        threads.setToolTip("CPU threads TensorFlow uses for one operation (automatic: all cores)")
        self.fields["cpu_threads"] = threads
        form.addRow("CPU threads", threads)
        use_gpu = QCheckBox("Train on a GPU when one is present")
        growth = QCheckBox("Take GPU memory as needed (memory growth)")
        self.fields["use_gpu"], self.fields["gpu_memory_growth"] = use_gpu, growth
        form.addRow(use_gpu)
        form.addRow(growth)
        self.devices = QLabel()
        self.devices.setObjectName("devicesLabel")
        self.devices.setWordWrap(True)
        self.devices.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.device_lines = {name: f"{NAMES[name]}: asking which devices it sees…" for name in BACKENDS}
        form.addRow("Devices", self.devices)
        note = QLabel("CPU threads and GPU use take effect the next time CNN Studio starts; a new backend at once "
                      "(when the job going on is done).")
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _training_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        optimizer = QComboBox()
        optimizer.addItems(list(OPTIMIZERS))
        rate = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=10.0, singleStep=0.0005)
        batch = QSpinBox(minimum=1, maximum=65536)
        epochs = QSpinBox(minimum=1, maximum=100000)
        split = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.9, singleStep=0.05)
        seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        for key, widget, label in (
            ("optimizer", optimizer, "Optimizer"), ("learning_rate", rate, "Learning rate"),
            ("batch_size", batch, "Batch size"), ("epochs", epochs, "Epochs"),
            ("validation_split", split, "Validation split"), ("seed", seed, "Seed"),
        ):
            self.fields[f"training/{key}"] = widget
            form.addRow(label, widget)
        form.addRow(QLabel("New projects start with these settings (a template's own choices win)."))
        return page

    # ------------------------------------------------------------------ values
    def load(self) -> None:
        for key, widget in self.fields.items():
            value = settings.appearance() if key == "appearance" else get(key)
            _set_value(widget, value)
        self.backend.set_value(self.ml.backend or default_backend())

    def restore_defaults(self) -> None:
        for key, widget in self.fields.items():
            _set_value(widget, "system" if key == "appearance" else DEFAULTS[key])
        self.backend.set_value("tensorflow")

    def accept(self) -> None:
        for key, widget in self.fields.items():
            value = _value(widget)
            if key == "appearance":
                self.set_appearance(value)
            else:
                put(key, value)
        self.autosaver.timer.setInterval(get("autosave_seconds") * 1000)
        self._apply_backend(self.backend.value())
        super().accept()

    def _apply_backend(self, backend: str) -> None:
        """Store the backend for the window and `cnnstudio train`, and move the worker onto it."""
        try:
            set_setting(BACKEND, backend)
        except UserError as exc:
            self.ml.failed.emit(f"The Keras backend could not be kept for the next start: {exc}")
        worker = getattr(self.ml.transport, "worker", None)
        if worker is None or (backend == worker.backend and worker.switching_to is None):
            return
        now = worker.busy and backend_choice.ask_switch_now(self, backend)
        what = self.ml.switch_backend(backend, stop_jobs=now)
        say = getattr(self.parent(), "show_message", None)
        if say is not None:
            say("info", f"Training and inspection run on {NAMES[backend]} from now on" + (f"; {what}" if what else ""))

    def _ask_for_devices(self) -> None:
        """Ask each backend, in a process of its own, which devices it sees."""
        self.probe = DeviceProbe(self)
        self.probe.answered.connect(self._show_devices)
        self._show_devices("", "")
        for name in BACKENDS:
            self.probe.ask(name)

    def _show_devices(self, backend: str, text: str) -> None:
        if backend:
            self.device_lines[backend] = f"{NAMES[backend]}: {text}"
        self.devices.setText("\n".join(self.device_lines.values()))


def _set_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        index = widget.findData(value)
        widget.setCurrentIndex(index if index >= 0 else max(0, widget.findText(str(value))))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.setValue(value)
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))


def _value(widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return data if data is not None else widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    return widget.text().strip() if isinstance(widget, QLineEdit) else None
