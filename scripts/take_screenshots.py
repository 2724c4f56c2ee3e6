"""Regenerate every README picture from the running program, as a person would see it.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/take_screenshots.py \
        [--out docs/screenshots] [--only editor,training,...] [--size 1600x1000] [--list]

With ``--screen`` it checks instead that the window fits the screen it runs on: the window
opens as it does for a new user (sized to the screen), and each main tab is pictured as
the whole screen shows it (window manager included) into ``docs/screens/WxH[@scale]-TAB.png``,
with every panel and page looked through for a label, button or value that is cut. Run it
under a window manager, e.g. for a 1920x1080 screen at 150%:

    Xvfb :41 -screen 0 1920x1080x24 & DISPLAY=:41 openbox &
    DISPLAY=:41 QT_SCALE_FACTOR=1.5 .venv/bin/python scripts/take_screenshots.py --screen

Settings, runs, recovery copies and caches go to a temporary folder, never to the user's own.
The window (1600x1000) is driven through the Qt event loop only: each picture is a generator
that yields what to wait for (milliseconds, or an `Until` condition polled by a timer), so the
window keeps painting and the ML thread keeps reporting while the script waits. What the
pictures need is trained for real once (LeNet-5 on mnist-sample, 5 epochs; for the comparison
an MLP and both networks on shuffled pixels; for What Changed? two short LeNet-5 variants; for the
label check LeNet-5 on a folder of MNIST-sample digits, a few of them filed under the wrong digit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1600, 1000
TRAIN_SECONDS = 600  # the longest a training run may take before the picture is given up
JOB_SECONDS = 240  # the longest an inspection job (evaluation, Grad-CAM, ...) may take
POLL_MS = 50


@dataclass
class Until:
    """Wait (through the event loop) until ``condition()`` is true; fail after ``seconds``."""

    condition: Callable[[], Any]
    what: str
    seconds: float = JOB_SECONDS


Step = Generator[Any, None, None]  # yields milliseconds (int) or Until


def isolate(home: Path) -> None:
    """Point every place the program or its libraries write to at ``home`` (before Qt starts)."""
    for variable, folder in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                             ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state"),
                             ("CNNSTUDIO_RUNS_DIR", "runs"), ("CNNSTUDIO_RECOVERY_DIR", "recovery"),
                             ("CNNSTUDIO_LOG_DIR", "logs"), ("KERAS_HOME", "keras"),
                             ("MPLCONFIGDIR", "matplotlib")):
        path = home / folder
        path.mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(path)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class Driver:
    """Runs the pictures one after the other, each a generator, from timers of the event loop."""

    def __init__(self, steps: list[tuple[str, Callable[[], Step]]], on_done: Callable[[], None]) -> None:
        self.steps = list(steps)
        self.on_done = on_done
        self.failed: list[str] = []
        self.current: tuple[str, Step] | None = None
        self.started = 0.0

    def start(self) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if not self.steps:
            self.on_done()
            return
        name, make = self.steps.pop(0)
        self.started = time.monotonic()
        print(f"-- {name}", flush=True)
        self.current = (name, make())
        self._advance()

    def _advance(self, error: BaseException | None = None) -> None:
        from PySide6.QtCore import QTimer

        name, step = self.current
        try:
            item = step.throw(error) if error is not None else next(step)
        except StopIteration:
            print(f"   {name}: {time.monotonic() - self.started:.1f} s", flush=True)
            QTimer.singleShot(0, self._next)
            return
        except Exception:  # noqa: BLE001 - one picture failing must not stop the others
            self.failed.append(name)
            print(f"   {name} FAILED:\n{traceback.format_exc()}", flush=True)
            QTimer.singleShot(0, self._next)
            return
        if isinstance(item, Until):
            self._poll(item, time.monotonic() + item.seconds)
        else:
            QTimer.singleShot(int(item or 0), lambda: self._advance())

    def _poll(self, until: Until, deadline: float) -> None:
        from PySide6.QtCore import QTimer

        try:
            done = until.condition()
        except Exception as exc:  # noqa: BLE001 - handed to the picture that asked
            self._advance(exc)
            return
        if done:
            QTimer.singleShot(0, lambda: self._advance())
        elif time.monotonic() > deadline:
            self._advance(TimeoutError(f"waited {until.seconds:.0f} s for {until.what}"))
        else:
            QTimer.singleShot(POLL_MS, lambda: self._poll(until, deadline))


class Pictures:
    """Every picture of the README, with what each needs trained or opened first."""

    def __init__(self, window, out: Path, scratch: Path) -> None:
        self.window = window
        self.out = out
        self.scratch = scratch
        self.runs: dict[str, Path] = {}  # label -> finished run folder
        self.saved: list[Path] = []
        self.first_state = window.saveState(1)
        self.size = window.size()  # as asked: panels that were shown may have grown the window past it

    # ------------------------------------------------------------------ helpers
    def save(self, name: str, pixmap=None) -> None:
        path = self.out / f"{name}.png"
        picture = pixmap if pixmap is not None else self.window.grab()
        if not picture.save(str(path)):
            raise OSError(f"cannot write {path}")
        self.saved.append(path)
        print(f"   saved {path} ({picture.width()}x{picture.height()})", flush=True)

    def fresh(self, appearance: str = "light") -> Step:
        """The first-run layout: default docks, Network tab, nothing selected, the given appearance."""
        from PySide6.QtWidgets import QApplication

        w = self.window
        for widget in QApplication.topLevelWidgets():  # dialogs of an earlier picture
            if widget is not w and widget.isWindow() and widget.isVisible():
                widget.hide()
        if self._appearance() != appearance:
            w.set_appearance(appearance)
        w.restoreState(self.first_state, 1)
        w.apply_default_sizes()
        for name in ("inspector", "summary"):
            w.docks[name].raise_()
        w.tabs.setCurrentWidget(w.editor)
        w.editor.select([])
        w.statusBar().clearMessage()
        yield 300
        w.editor.zoom_to_fit(readable=True)
        yield 400

    def _appearance(self) -> str:
        from cnnstudio.ui import settings

        return settings.appearance()

    def front(self, dock: str, width: int | None = None, height: int | None = None) -> None:
        from PySide6.QtCore import Qt

        w = self.window
        w.docks[dock].show()
        w.docks[dock].raise_()
        if width:
            w.resizeDocks([w.docks[dock]], [width], Qt.Orientation.Horizontal)
        if height:
            w.resizeDocks([w.docks[dock]], [height], Qt.Orientation.Vertical)

    def hide_docks(self, *areas: str) -> None:
        """Close the panels docked at these sides ("left", "right", "bottom"; none named: all of them)."""
        from PySide6.QtCore import Qt

        w = self.window
        wanted = {getattr(Qt.DockWidgetArea, f"{a.capitalize()}DockWidgetArea") for a in areas}
        for dock in w.docks.values():
            if not wanted or w.dockWidgetArea(dock) in wanted:
                dock.hide()

    def fit(self) -> Step:
        """Back to the asked size once the hidden panels' least heights no longer count."""
        yield 300
        self.window.resize(self.size)
        yield 300

    def train(self, label: str, template: str | None = None, shuffled: bool = False, project=None) -> Step:
        """Train (once) the open project, a template's project or `project`, on mnist-sample for 5 epochs
        (a given project: on its own dataset, for its own epochs)."""
        if label in self.runs:
            return
        from cnnstudio.core.templates import load_template

        given = project

        w = self.window
        finished: list[Path] = []
        problems: list[str] = []

        def done(run_dir) -> None:
            finished.append(Path(run_dir))

        w.features.training.runFinished.connect(done)
        w.features.training.failed.connect(problems.append)
        try:
            project = given
            if project is not None:
                pass
            elif template is not None or shuffled:
                project = load_template(template) if template else w.document.project.copy()
                project.dataset["permute_pixels"] = 0 if shuffled else None
            else:
                w.features.training_panel.form.fields["epochs"].setValue(5)
            started = time.monotonic()
            w.features.training.start(project, None if project is None else label)
            yield Until(lambda: finished or problems, f"{label} to finish training", TRAIN_SECONDS)
            if problems:
                raise RuntimeError(f"training {label} failed: {problems[0]}")
            self.runs[label] = finished[0]
            print(f"   trained {label} in {time.monotonic() - started:.0f} s: {finished[0]}", flush=True)
        finally:
            w.features.training.runFinished.disconnect(done)
            w.features.training.failed.disconnect(problems.append)

    def inspect_run(self, label: str = "lenet5") -> Step:
        yield from self.train(label)
        self.window.model_source.set_run_dir(self.runs[label])
        yield 200

    # ------------------------------------------------------------------ the editor
    def editor(self) -> Step:
        yield from self.fresh()
        self.save("editor")

    def editor_dark(self) -> Step:
        yield from self.fresh("dark")
        yield 300
        self.save("editor-dark")
        yield from self.fresh()

    def inspector_formulas(self) -> Step:
        yield from self.fresh()
        self.hide_docks("bottom")  # the inspector runs the full height: every formula in sight
        self.window.editor.select(["conv1"], center=True)
        yield 500
        self.save("inspector-formulas")

    def fine_tuning(self) -> Step:
        """A MobileNetV2 backbone, frozen (its snowflake on the canvas), and the fine-tuning recipe in the
        Training settings, saying what each phase trains."""
        from cnnstudio.core.project import project_from_dict

        yield from self.fresh()
        w = self.window
        before = w.document.project
        w.document.replace_project(project_from_dict({
            "format": "cnnstudio-project", "version": 2, "name": "digits-mobilenet",
            "network": {"nodes": [
                {"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}},
                {"id": "mobilenetv2", "type": "MobileNetV2", "params": {"weights": "imagenet"}, "trainable": False},
                {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
                {"id": "dropout", "type": "Dropout", "params": {"rate": 0.2}},
                {"id": "head", "type": "Dense", "params": {"units": 10, "activation": "softmax"}}],
                "edges": [["image", "mobilenetv2"], ["mobilenetv2", "pool"], ["pool", "dropout"],
                          ["dropout", "head"]]},
            "dataset": {"name": "mnist-sample", "image_size": [32, 32], "color_mode": "rgb"},
            "training": {"epochs": 6, "learning_rate": 0.001, "batch_size": 32,
                         "fine_tune": {"head_epochs": 3, "unfreeze_top": 30, "rate_factor": 0.1}}}))
        try:
            self.hide_docks("bottom")
            self.front("training", width=460)
            yield 300
            w.editor.zoom_to_fit(readable=True)
            w.editor.select(["mobilenetv2"])
            yield 600
            self.save("fine-tuning")
        finally:
            w.document.replace_project(before)

    def layer_error(self) -> Step:
        yield from self.fresh()
        w = self.window
        stack = w.document.undo_stack
        before = stack.index()
        w.editor.select(["conv2"], center=True)
        yield 300
        spins = w.inspector.form.editor("kernel_size").spins
        for spin in spins:
            spin.setValue(20)
        yield 500
        try:
            self.save("layer-error")
        finally:
            stack.setIndex(before)
            if before == 0:
                stack.clear()  # nothing left to redo either: the pictures after it show a fresh window
        yield 200

    def code_view(self) -> Step:
        yield from self.fresh()
        self.window.editor.select(["conv2"], center=True)
        self.front("code", height=430)
        yield Until(lambda: "Conv2D" in self.window.features.code.code, "the code panel to show the network")
        yield 500
        self.save("code-view")

    def dataset_panel(self) -> Step:
        yield from self.fresh()
        panel = self.window.features.datasets
        self.hide_docks("bottom")  # the panel runs the full height: samples, class counts and facts together
        self.front("dataset", width=560)
        yield Until(lambda: panel.preview is not None and not panel.loading, "the dataset preview")
        yield 800
        self.save("dataset-panel")

    # ------------------------------------------------------------------ training and runs
    def training(self) -> Step:
        yield from self.fresh()
        w = self.window
        self.front("training")
        yield from self.train("lenet5")
        w.tabs.setCurrentWidget(w.features.training_view)
        self.front("training")
        yield 1500
        self.save("training")

    def run_comparison(self) -> Step:
        yield from self.train("lenet5")
        yield from self.train("mlp", "mlp")
        yield from self.train("lenet5 shuffled", "lenet5", shuffled=True)
        yield from self.train("mlp shuffled", "mlp", shuffled=True)
        yield from self.fresh()
        w = self.window
        history = w.features.runs
        self.hide_docks("right")
        self.front("runs", height=260)
        history.refresh()
        paths = [self.runs[k] for k in ("mlp", "mlp shuffled", "lenet5", "lenet5 shuffled")]
        yield Until(lambda: all(history.model.row_of(p) is not None for p in paths), "the runs to be listed")
        history.select(paths)
        history.compare(paths)
        yield 1200
        self.save("run-comparison")

    def _variants(self) -> Step:
        """LeNet-5 for 3 epochs, and a variant of it: wider first convolution, smaller second kernel,
        another learning rate (What Changed? and the confusion matrix over the epochs)."""
        from cnnstudio.core.templates import load_template

        before = load_template("lenet5")
        before.training["epochs"] = 3
        after = before.copy()
        after.network.set_param("conv1", "filters", 16)
        after.network.set_param("conv2", "kernel_size", 3)
        after.training["learning_rate"] = 0.002
        yield from self.train("lenet5 3 epochs", project=before)
        yield from self.train("lenet5 wider", project=after)

    def what_changed(self) -> Step:
        yield from self._variants()
        yield from self.fresh()
        self.hide_docks()
        yield from self.fit()
        view = self.window.features.diffs.show(self.runs["lenet5 3 epochs"], self.runs["lenet5 wider"])
        if view is None:
            raise RuntimeError("What Changed? showed nothing")
        view.tabs.setCurrentIndex(0)
        yield 600
        view.network.canvas.zoom_to_fit()  # the whole network, in the space the page has at this size
        yield 600
        self.save("what-changed")

    def confusion_epochs(self) -> Step:
        import numpy as np

        yield from self._variants()
        yield from self.fresh()
        self.hide_docks()
        yield from self.fit()
        run = self.runs["lenet5 wider"]
        self.window.model_source.set_run_dir(run)
        page = self._page("confusionView")
        self._show_page(page)
        epochs = page.over_epochs
        yield Until(lambda: epochs.timeline is not None and epochs.run_dir == run, "the kept predictions")
        epochs.go_to(epochs.timeline.epochs[1])
        matrix = np.array(epochs.timeline.matrix(epochs.epoch), dtype=np.int64)
        np.fill_diagonal(matrix, -1)
        true, predicted = np.unravel_index(np.argmax(matrix), matrix.shape)  # the commonest mistake
        epochs.show_cell(int(true), int(predicted))
        yield Until(lambda: epochs.images is not None and len(epochs.images.indices) == len(epochs.listed),
                    "the pictures of the cell")
        yield 800
        self.save("confusion-epochs")

    def label_check(self) -> Step:
        import numpy as np
        from PIL import Image

        from cnnstudio.core.templates import load_template

        digits = np.load(ROOT / "resources" / "mnist-sample.npz")
        folder = self.scratch / "digits"
        if not folder.exists():  # 90 of each of 3, 5 and 8; every fifteenth filed under the next digit
            chosen = (3, 5, 8)
            for digit in chosen:
                (folder / str(digit)).mkdir(parents=True)
            for digit_index, digit in enumerate(chosen):
                for count, index in enumerate(np.flatnonzero(digits["y"] == digit)[:90]):
                    filed = chosen[(digit_index + 1) % 3] if count % 15 == 7 else digit
                    Image.fromarray(digits["x"][index]).save(folder / str(filed) / f"{digit}-{index:05d}.png")
        project = load_template("lenet5")
        project.dataset = {"name": f"folder:{folder}"}
        project.training.update(epochs=6, validation_split=0.3)
        project.network.set_param("output", "units", 3)
        self.window.document.replace_project(project.copy())  # the open project: its labels can be edited
        yield from self.train("digits folder", project=project)
        yield from self.fresh()
        self.hide_docks()
        yield from self.fit()
        page = self.window.features.labels
        self.window.model_source.set_run_dir(self.runs["digits folder"])
        self._show_page(page)
        page.run_check()
        yield Until(lambda: page.check is not None and page.check.run_dir == self.runs["digits folder"],
                    "the label check")
        misfiled = [row for row, s in enumerate(page.check.suspects) if s.path.split("/")[1][0] != s.label]
        if misfiled:  # one picture given its right class in the project; another selected to look at
            page.table.selectRow(misfiled[0])
            page.relabel_selected(page.check.suspects[misfiled[0]].predicted)
            page.table.selectRow(misfiled[1] if len(misfiled) > 1 else misfiled[0])
        yield 800
        self.save("label-check")

    # ------------------------------------------------------------------ inspection
    def _inspect_views(self):
        return self.window.features.inspect

    def _page(self, name: str):
        from PySide6.QtWidgets import QWidget

        return self.window.findChild(QWidget, name)

    def _show_page(self, page) -> None:

        self.window.features.inspect.area.show_page(page)

    def filters(self) -> Step:
        yield from self.inspect_run()
        yield from self.fresh()
        self.hide_docks()  # the view as wide as the window, as with View > Panels all unticked
        f = self._inspect_views().filters
        self._show_page(f)
        yield Until(lambda: f.kernels is not None and "trained" in f.caption.text(), "the trained filters")
        f.layer_combo.setCurrentIndex(f.layer_combo.findData("conv2"))
        f.request()
        yield Until(lambda: f.kernels is not None and f.kernels.layer == "conv2", "the filters of conv2")
        f.mode_combo.setCurrentIndex(f.mode_combo.findData("per_channel"))
        f.redraw(fit=True)
        f.select_filter(5, 2)
        yield 800
        self.save("filters")

    def feature_maps(self) -> Step:
        import numpy as np

        yield from self.inspect_run()
        yield from self.fresh()
        self.hide_docks()  # the view as wide as the window, as with View > Panels all unticked
        views = self._inspect_views()
        m = views.feature_maps
        self._show_page(m)
        yield Until(lambda: m.analysis is not None and m.analysis.activations is not None, "the feature maps")
        m.input_panel.focus_draw()
        canvas = views.canvas
        canvas.clear()
        canvas.stroke([(6, 6), (21, 6), (20, 9), (15, 16), (12, 23)])  # a 7 with a bar
        canvas.stroke([(10, 14), (19, 14)])
        yield Until(lambda: m.analysis is not None and m.analysis.input.origin == "drawing"
                    and m.analysis.input.image.sum() > 10
                    and m.analysis.activations is not None, "the feature maps of the drawing")
        yield 500
        row = m.rows["conv2"]
        channel = int(row.order[0])
        r, c = np.unravel_index(np.argmax(row.values[..., channel]), row.values.shape[:2])
        m.show_field("conv2", channel, int(r), int(c))
        yield 800
        self.save("feature-maps")

    def _evaluated(self) -> Step:
        yield from self.inspect_run()
        page = self._page("confusionView")
        self._show_page(page)
        if page.outcome is None:
            page.evaluate()
            yield Until(lambda: page.outcome is not None and not page.bar.running, "the evaluation")
        return page

    def confusion(self) -> Step:
        import numpy as np

        yield from self.fresh()
        self.hide_docks()
        page = yield from self._evaluated()
        matrix = np.array(page.outcome.evaluation.confusion, dtype=np.int64)
        np.fill_diagonal(matrix, -1)
        true, predicted = np.unravel_index(np.argmax(matrix), matrix.shape)  # the commonest mistake
        page.show_cell(int(true), int(predicted))
        yield 1000
        self.save("confusion")

    def saliency(self) -> Step:
        yield from self.fresh()
        self.hide_docks()
        page = yield from self._evaluated()
        if page.cell is None or not len(page.listed):
            page.show_misclassified()
        saliency = self._page("saliencyView")
        saliency.set_method("grad-cam")
        page.open_index(int(page.listed[0]))
        yield Until(lambda: saliency.explanation is not None and saliency.explanation.method == "grad-cam",
                    "the Grad-CAM explanation")
        yield 1000
        self.save("saliency")

    def maximize(self) -> Step:
        yield from self.inspect_run()
        yield from self.fresh()
        self.hide_docks()  # the view as wide as the window, as with View > Panels all unticked
        page = self._page("maximizeView")
        self._show_page(page)
        yield Until(lambda: page.facts is not None, "the model's layers")
        page.run()
        yield Until(lambda: page.outcome is not None and not page.bar.running, "the maximization",
                    TRAIN_SECONDS)
        yield 800
        self.save("maximize")

    # ------------------------------------------------------------------ teaching
    def playground(self) -> Step:
        yield from self.fresh()
        self.hide_docks()
        view = self.window.features.playground
        self.window.show_tab(view)
        view.image_source.choose("grid:X")
        view.kernel_editor.choose_preset("diagonal \\")
        view.go_to(16)
        yield 800
        self.save("playground")

    def lessons(self) -> Step:
        yield from self.fresh()
        panel = self.window.features.lessons.present("shuffled-pixels")
        finished: list[bool] = []
        panel.runner.finished.connect(lambda _key, ok: finished.append(ok))
        if not panel.start():
            raise RuntimeError(f"the lesson did not start: {panel.status.text()}")
        yield Until(lambda: finished, "the lesson's twelve runs", 12 * TRAIN_SECONDS)
        if not finished[0]:
            raise RuntimeError(f"the lesson did not finish: {panel.status.text()}")
        self.hide_docks("left", "bottom")  # LeNet-5's experiment it ends with, beside the lesson's verdicts
        self.front("lessons", width=560)
        yield 1500
        self.save("lessons")

    # ------------------------------------------------------------------ experiments
    def _experiment_dialog(self):
        """The definition dialog on LeNet-5: two learning rates x two filter counts, 3 seeds, 3 short epochs."""
        dialog = self.window.features.experiments.new_experiment()
        dialog.add("training.learning_rate", "0.001, 0.004")
        dialog.add("conv1.filters", "2, 6")
        dialog.seeds.setValue(3)
        dialog.epochs.setValue(3)
        dialog.batches.setValue(40)
        return dialog

    def experiment_definition(self) -> Step:
        yield from self.fresh()
        dialog = self._experiment_dialog()
        dialog.choice.setCurrentIndex(dialog.choice.findData("conv1.filters"))
        dialog.row("conv1.filters").edit.setFocus()
        dialog.resize(780, 700)
        dialog.move((WIDTH - dialog.width()) // 2, (HEIGHT - dialog.height()) // 2)
        yield 800
        self.save("experiment-definition", self._with_dialog(dialog))
        dialog.close()
        yield 200

    def _with_dialog(self, dialog):
        from PySide6.QtGui import QColor, QPainter, QPen

        w = self.window
        picture = w.grab()
        painter = QPainter(picture)
        top_left = dialog.geometry().topLeft() - w.geometry().topLeft()
        painter.drawPixmap(top_left, dialog.grab())
        painter.setPen(QPen(QColor(0, 0, 0, 110), 1))
        painter.drawRect(top_left.x() - 1, top_left.y() - 1, dialog.width() + 1, dialog.height() + 1)
        painter.end()
        return picture

    def experiment_results(self) -> Step:
        yield from self.fresh()
        w = self.window
        experiments = w.features.experiments
        ended: list[str] = []
        experiments.controller.sessionEnded.connect(lambda _folder, text: ended.append(text))
        dialog = self._experiment_dialog()
        dialog.create_and_train.click()
        if dialog.isVisible():
            raise RuntimeError(f"the experiment was not created: {dialog.problem.text()}")
        started = time.monotonic()
        yield Until(lambda: ended, "the experiment's 12 runs", 12 * TRAIN_SECONDS)
        print(f"   trained the experiment in {time.monotonic() - started:.0f} s: {ended[0]}", flush=True)
        view = experiments.open(experiments.view.folder)
        self.hide_docks("left", "right", "bottom")  # the Experiment tab whole: tables, curves and verdicts
        best = view.results.settings
        view.select_settings([best[0].label, best[1].label])  # the two best: is the difference real?
        yield 1500
        self.save("experiment-results")

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> Step:
        from PySide6.QtGui import QColor, QPainter, QPen

        yield from self.inspect_run()
        yield from self.fresh()
        w = self.window
        run = self.runs["lenet5"]
        self.front("runs")
        w.features.runs.refresh()
        yield Until(lambda: w.features.runs.model.row_of(run) is not None, "the run to be listed")
        w.features.runs.select([run])
        w.features.runs.export(run)
        from PySide6.QtWidgets import QApplication

        dialog = next(d for d in QApplication.topLevelWidgets()
                      if d.objectName() == "exportDialog" or type(d).__name__ == "ExportDialog")
        folder = self.scratch / "export"
        shutil.rmtree(folder, ignore_errors=True)
        dialog.folder.setText(str(folder))
        dialog.base.setText("lenet5")
        dialog.set_formats(["keras", "savedmodel", "tflite", "onnx", "python", "png", "svg", "metrics", "report"],
                           "dynamic")
        dialog.resize(900, 780)
        dialog.move((WIDTH - dialog.width()) // 2, (HEIGHT - dialog.height()) // 2 + 20)
        dialog.start_export()
        yield Until(lambda: not dialog.running, "the export", TRAIN_SECONDS)
        if "tflite" in dialog.rows:
            dialog.tree.setCurrentItem(dialog.rows["tflite"])
        yield 800
        picture = w.grab()
        painter = QPainter(picture)
        top_left = dialog.geometry().topLeft() - w.geometry().topLeft()
        painter.drawPixmap(top_left, dialog.grab())
        painter.setPen(QPen(QColor(0, 0, 0, 110), 1))
        painter.drawRect(top_left.x() - 1, top_left.y() - 1, dialog.width() + 1, dialog.height() + 1)
        painter.end()
        self.save("export-dialog", picture)
        dialog.close()
        yield 200


class ScreenPictures(Pictures):
    """One picture of the whole screen per main tab, and the controls cut at this size."""

    def __init__(self, window, out: Path, scratch: Path) -> None:
        from PySide6.QtGui import QGuiApplication

        super().__init__(window, out, scratch)
        screen = QGuiApplication.primaryScreen()
        size, scale = screen.size(), screen.devicePixelRatio()
        pixels = f"{round(size.width() * scale)}x{round(size.height() * scale)}"
        self.prefix = pixels + (f"@{scale:g}x" if scale != 1 else "")
        self.cut: list[str] = []

    def save(self, name: str, pixmap=None) -> None:
        from PySide6.QtGui import QGuiApplication

        super().save(f"{self.prefix}-{name}", QGuiApplication.primaryScreen().grabWindow(0))
        self.look_through(name)

    def look_through(self, name: str) -> None:
        """Raise every panel and page in turn and list what does not show whole."""
        from PySide6.QtWidgets import QApplication, QTabWidget

        from cnnstudio.ui.fitting import cut_controls

        w = self.window
        frame = w.frameGeometry()
        available = w.screen().availableGeometry().adjusted(-1, -1, 1, 1)  # scaled pixels round either way
        found = [] if available.contains(frame) else [f"the window ({frame.width()}x{frame.height()} at "
                                                      f"{frame.x()},{frame.y()}) is not inside the screen's "
                                                      f"{available.width()}x{available.height()}"]
        tab = w.tabs.currentIndex()
        pages = w.tabs.currentWidget().findChildren(QTabWidget)
        shown = {dock: dock.visibleRegion().isEmpty() for dock in w.docks.values()}
        for inner in [None] + pages:
            for index in range(inner.count() if inner else 1):
                if inner:
                    inner.setCurrentIndex(index)
                for key, dock in w.docks.items():
                    if key == "palette" and w.tabs.currentWidget() is not w.editor:
                        continue  # it shows with the canvas only
                    was_hidden = dock.isHidden()
                    dock.show()  # every panel, the Lessons one too
                    dock.raise_()
                    for _ in range(10):
                        QApplication.processEvents()
                    found += [p for p in cut_controls(w) if p not in found]
                    if was_hidden:
                        dock.hide()
        for dock, hidden in shown.items():
            if not hidden and not dock.isHidden():
                dock.raise_()
        w.tabs.setCurrentIndex(tab)
        for problem in found:
            print(f"   CUT ({name}): {problem}", flush=True)
        self.cut += [f"{name}: {p}" for p in found]

    def network(self) -> Step:
        yield from self.fresh()
        self.save("network")

    def training_tab(self) -> Step:
        yield from self.fresh()
        w = self.window
        yield from self.train("lenet5")
        w.tabs.setCurrentWidget(w.features.training_view)
        self.front("training")
        yield 1500
        self.save("training")

    def inspect_tab(self) -> Step:
        yield from self.inspect_run()
        yield from self.fresh()
        m = self._inspect_views().feature_maps
        self._show_page(m)
        yield Until(lambda: m.analysis is not None and m.analysis.activations is not None, "the feature maps")
        yield 800
        self.save("inspect")

    def playground_tab(self) -> Step:
        yield from self.fresh()
        view = self.window.features.playground
        self.window.show_tab(view)
        view.image_source.choose("grid:X")
        view.kernel_editor.choose_preset("diagonal \\")
        view.go_to(16)
        yield 800
        self.save("playground")


SCREEN_PICTURES = {
    "network": ScreenPictures.network,
    "training": ScreenPictures.training_tab,
    "inspect": ScreenPictures.inspect_tab,
    "playground": ScreenPictures.playground_tab,
}

PICTURES = {  # file name -> method, in the order they are taken (training first needed by "training")
    "editor": Pictures.editor,
    "editor-dark": Pictures.editor_dark,
    "inspector-formulas": Pictures.inspector_formulas,
    "layer-error": Pictures.layer_error,
    "code-view": Pictures.code_view,
    "dataset-panel": Pictures.dataset_panel,
    "playground": Pictures.playground,
    "training": Pictures.training,
    "filters": Pictures.filters,
    "feature-maps": Pictures.feature_maps,
    "confusion": Pictures.confusion,
    "saliency": Pictures.saliency,
    "maximize": Pictures.maximize,
    "export-dialog": Pictures.export_dialog,
    "run-comparison": Pictures.run_comparison,
    "experiment-definition": Pictures.experiment_definition,
    "experiment-results": Pictures.experiment_results,
    "lessons": Pictures.lessons,
    "what-changed": Pictures.what_changed,
    "confusion-epochs": Pictures.confusion_epochs,
    "label-check": Pictures.label_check,
    "fine-tuning": Pictures.fine_tuning,
}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--only", default="", help="comma-separated picture names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the picture names and exit")
    parser.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", help="the window's size, WIDTHxHEIGHT")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary settings and runs folder")
    parser.add_argument("--screen", action="store_true",
                        help="check that the window fits this screen: one picture per main tab into docs/screens")
    args = parser.parse_args(argv)
    pictures = SCREEN_PICTURES if args.screen else PICTURES
    if args.screen and args.out == ROOT / "docs" / "screenshots":
        args.out = ROOT / "docs" / "screens"
    names = [n.strip().removesuffix(".png") for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in pictures]
    if unknown:
        parser.error(f"unknown picture(s) {', '.join(unknown)}; choose from {', '.join(pictures)}")
    args.names = names or list(pictures)
    args.pictures = pictures
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.list:
        print("\n".join(args.pictures))
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="cnnstudio-"))
    isolate(scratch)
    sys.path.insert(0, str(ROOT))
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSize

    from cnnstudio.ui.app import create_application

    app = create_application(["cnnstudio"])
    from cnnstudio.ui import dialogs
    from cnnstudio.ui.main_window import MainWindow

    dialogs.ask_save_changes = lambda parent, name: dialogs.DISCARD  # never a modal question
    dialogs.show_error = lambda parent, title, text: print(f"   error shown: {title}: {text}", flush=True)
    window = MainWindow()
    window.set_appearance("light")
    width, height = (int(v) for v in args.size.lower().split("x"))
    if not args.screen:  # else as it opens for a new user, sized to the screen
        window.setGeometry(0, 0, width, height)
    window.show()
    pictures = (ScreenPictures if args.screen else Pictures)(window, args.out.resolve(), scratch)
    if not args.screen:
        pictures.size = QSize(width, height)
    started = time.monotonic()
    steps = [(name, lambda method=args.pictures[name]: method(pictures)) for name in args.pictures
             if name in args.names]

    def finish() -> None:
        window.close()
        app.quit()

    driver = Driver(steps, finish)
    driver.start()
    app.exec()
    print(f"{len(pictures.saved)} pictures in {args.out} in {time.monotonic() - started:.0f} s"
          + (f"; FAILED: {', '.join(driver.failed)}" if driver.failed else ""), flush=True)
    if args.screen:
        print(f"{len(pictures.cut)} controls cut at {pictures.prefix}" if pictures.cut
              else f"nothing cut at {pictures.prefix}: every label, button and value shows whole", flush=True)
        driver.failed += ["cut controls"] if pictures.cut else []
    if args.keep_temp:
        print(f"settings and runs kept in {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if driver.failed else 0


if __name__ == "__main__":
    sys.exit(main())
