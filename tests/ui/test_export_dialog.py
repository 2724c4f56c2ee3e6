"""File > Export…: every format written from a run (LeNet-5, resnet-mini, an imported functional model) or from
the untrained network, each file read back and checked; failures explained and nothing half-written left."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QMenu  # noqa: E402

from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ui.exporting import TransferFeature  # noqa: E402
from cnnstudio.ui.exporting import dialog as dialog_module  # noqa: E402
from cnnstudio.ui.exporting.diagram import MARGIN, PNG_SCALE, Diagram  # noqa: E402
from cnnstudio.ui.exporting.formats import FORMATS  # noqa: E402

from . import jobs_for_tests  # noqa: E402
from .helpers import save_tiny_residual  # noqa: E402

ALL = [f.key for f in FORMATS]
FILES = {"keras": ".keras", "savedmodel": "_savedmodel", "tflite": ".tflite", "onnx": ".onnx", "python": ".py",
         "png": "_diagram.png", "svg": "_diagram.svg", "metrics": "_metrics.csv", "report": "_report.html"}


def _train(template: str, folder: Path) -> Path:
    from cnnstudio.ml.trainer import Trainer, TrainingSettings

    project = load_template(template)
    settings = TrainingSettings.from_project(project, epochs=1, max_steps_per_epoch=2, batch_size=16,
                                             validation_split=0.02)
    run_dir = folder / f"{template}-run"
    Trainer(project, settings=settings, run_dir=run_dir, evaluate_test=False).run()
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny trained runs of LeNet-5 and resnet-mini, and the run of an imported functional Keras model."""
    from cnnstudio.ml.importer import import_model, save_imported_run

    folder = tmp_path_factory.mktemp("runs")
    save_tiny_residual(folder / "tiny_residual.keras")
    imported = save_imported_run(import_model(folder / "tiny_residual.keras"), folder)
    return {"lenet5": _train("lenet5", folder), "resnet-mini": _train("resnet-mini", folder), "imported": imported}


def feature(window) -> TransferFeature:
    return window.findChild(TransferFeature, "transferFeature")


def export(qtbot, window, out: Path, keys, *, run_dir=None, quantize=None, base="model"):
    dialog = feature(window).show_dialog(run_dir)
    if run_dir is None:
        dialog.select_source(None)
    assert dialog.source.run_dir == run_dir
    dialog.folder.setText(str(out))
    dialog.base.setText(base)
    dialog.set_formats(keys, quantize)
    assert dialog.start_export()
    qtbot.waitUntil(lambda: not dialog.running, timeout=180000)
    return dialog


def _load_predict(fmt: str, path: Path, x: np.ndarray) -> np.ndarray:
    from cnnstudio.ml.export import predict_file

    return predict_file(fmt, path, x)


def check_every_format(dialog, out: Path, run_dir: Path) -> None:
    from cnnstudio.ml.export import load_keras_model

    results = dialog.results
    assert sorted(results) == sorted(ALL)
    assert [k for k, r in results.items() if not r.ok] == [], {k: r.detail for k, r in results.items()}
    for key, suffix in FILES.items():
        assert (out / f"model{suffix}").exists(), key
        assert results[key].size_bytes > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"model{s}" for s in FILES.values())  # no leftovers
    model = load_keras_model(run_dir / "model.keras")
    x = np.random.default_rng(1).random((4, *model.inputs[0].shape[1:]), dtype=np.float32)
    expected = model.predict(x, verbose=0)
    for fmt, name in (("keras", "model.keras"), ("savedmodel", "model_savedmodel"), ("onnx", "model.onnx")):
        assert np.max(np.abs(_load_predict(fmt, out / name, x) - expected)) <= 1e-5, fmt
        assert "predictions" in results[fmt].detail
    assert "summary" not in dialog.summary.text() and dialog.summary.text().startswith("9 of 9 written")
    assert dialog.open_button.isEnabled() and dialog.base.text() == "model"  # the name used stays shown


def test_every_format_is_written_and_checked_from_a_lenet5_run(qtbot, main_window, runs, tmp_path):
    main_window.model_source.set_run_dir(runs["lenet5"])
    dialog = feature(main_window).show_dialog()
    assert dialog.source.run_dir == runs["lenet5"]  # the run being inspected comes first
    dialog = export(qtbot, main_window, tmp_path, ALL, run_dir=runs["lenet5"], quantize="dynamic")
    check_every_format(dialog, tmp_path, runs["lenet5"])
    tflite = dialog.results["tflite"]
    assert tflite.size_before_bytes and tflite.size_bytes < 0.5 * tflite.size_before_bytes  # int8 weights
    assert "unquantized →" in tflite.detail and "dynamic-range int8" in tflite.detail
    with open(tmp_path / "model_metrics.csv", newline="") as handle:
        assert next(csv.reader(handle)) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert "160 validation images evaluated" in dialog.results["report"].detail


def test_every_format_is_written_and_checked_from_a_resnet_mini_run(qtbot, main_window, runs, tmp_path):
    dialog = export(qtbot, main_window, tmp_path, ALL, run_dir=runs["resnet-mini"])
    check_every_format(dialog, tmp_path, runs["resnet-mini"])
    assert "builds the same network (" in dialog.results["python"].detail


def test_every_format_is_written_and_checked_from_an_imported_functional_model(qtbot, main_window, runs, tmp_path):
    dialog = export(qtbot, main_window, tmp_path, ALL, run_dir=runs["imported"])
    check_every_format(dialog, tmp_path, runs["imported"])
    assert "0 epochs" in dialog.results["metrics"].detail


def test_the_untrained_network_exports_models_but_not_run_only_files(qtbot, main_window, tmp_path):
    dialog = feature(main_window).show_dialog()
    dialog.select_source(None)
    assert not dialog.checks["metrics"].isEnabled() and not dialog.checks["report"].isEnabled()
    dialog = export(qtbot, main_window, tmp_path, ["keras", "report", "png"])
    assert sorted(dialog.results) == ["keras", "png"] and all(r.ok for r in dialog.results.values())
    from cnnstudio.ml.export import load_keras_model

    model = load_keras_model(tmp_path / "model.keras")
    assert [layer.name for layer in model.layers] == list(main_window.document.network.nodes)


def test_the_diagram_svg_names_every_layer_and_the_png_has_the_diagram_size(qtbot, main_window, runs, tmp_path):
    export(qtbot, main_window, tmp_path, ["png", "svg"], run_dir=runs["resnet-mini"])
    project = load_template("resnet-mini")
    svg = (tmp_path / "model_diagram.svg").read_text()
    assert all(node_id in svg for node_id in project.network.nodes)
    assert "<text" in svg and 'fill="#ffffff"' in svg  # drawn on white, text kept as text
    diagram = Diagram(project)
    try:
        box = diagram.scene.itemsBoundingRect()
    finally:
        diagram.close()
    image = QImage(str(tmp_path / "model_diagram.png"))
    assert (image.width(), image.height()) == (math.ceil((box.width() + 2 * MARGIN) * PNG_SCALE),
                                               math.ceil((box.height() + 2 * MARGIN) * PNG_SCALE))
    assert QImage(image).pixelColor(2, 2).name() == "#ffffff"


def test_a_model_that_fails_its_check_leaves_no_file_and_says_why(qtbot, main_window, runs, tmp_path, in_worker):
    in_worker(attributes=[("cnnstudio.ml.export:predict_file", jobs_for_tests.zero_predictions)])
    dialog = export(qtbot, main_window, tmp_path, ["onnx", "png"], run_dir=runs["lenet5"])
    result = dialog.results["onnx"]
    assert not result.ok and "does not give the same predictions" in result.detail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_diagram.png"]
    assert dialog.rows["onnx"].text(3).startswith("Failed: ") and "1 failed: ONNX" in dialog.summary.text()
    assert "does not give the same predictions" in dialog.detail.text()


def test_a_report_that_fails_its_check_removes_the_partial_file(qtbot, main_window, runs, tmp_path, monkeypatch,
                                                                in_worker):
    old = tmp_path / "model_report.html"
    old.write_text("an earlier report")
    monkeypatch.setattr(dialog_module, "confirm_replace", lambda parent, paths: True)
    in_worker(attributes=[("cnnstudio.ml.jobs.exporting:_check_report", jobs_for_tests.report_not_whole)])
    dialog = export(qtbot, main_window, tmp_path, ["report"], run_dir=runs["lenet5"])
    assert not dialog.results["report"].ok and "did not come out whole" in dialog.results["report"].detail
    assert [p.name for p in tmp_path.iterdir()] == ["model_report.html"] and old.read_text() == "an earlier report"


def test_existing_files_are_kept_when_the_user_does_not_want_them_replaced(main_window, runs, tmp_path, monkeypatch):
    (tmp_path / "model.keras").write_text("keep me")
    asked = []
    monkeypatch.setattr(dialog_module, "confirm_replace", lambda parent, paths: asked.append(paths) or False)
    dialog = feature(main_window).show_dialog()
    dialog.select_source(runs["lenet5"])
    dialog.folder.setText(str(tmp_path))
    dialog.base.setText("model")
    dialog.set_formats(["keras"])
    assert not dialog.start_export() and not dialog.running
    assert asked == [[tmp_path / "model.keras"]] and (tmp_path / "model.keras").read_text() == "keep me"


def test_a_file_name_with_a_slash_is_refused_in_plain_words(main_window, tmp_path):
    dialog = feature(main_window).show_dialog()
    dialog.folder.setText(str(tmp_path))
    dialog.base.setText("a/b")
    dialog.set_formats(["keras"])
    assert not dialog.export_button.isEnabled()
    assert not dialog.start_export() and "cannot contain" in dialog.summary.text()


def test_export_and_import_are_in_the_file_menu_with_their_shortcuts(main_window):
    file_menu = main_window.findChild(QMenu, "menu_file")
    texts = [a.text() for a in file_menu.actions()]
    assert "&Export…" in texts and "&Import Keras Model…" in texts
    assert texts.index("&Export…") < texts.index("&Quit")
    assert main_window.actions_["export"].shortcut() == QKeySequence("Ctrl+E")
    assert main_window.actions_["import_model"].shortcut() == QKeySequence("Ctrl+I")
    main_window.actions_["export"].trigger()
    dialog = feature(main_window).dialog
    assert dialog.isVisible() and dialog.objectName() == "exportDialog"
    dialog.close()


def test_checking_a_script_runs_only_keras_constructors_on_literal_values():
    import ast

    from cnnstudio.ml.jobs.exporting import safe_build_model

    script = '''
def build_model():
    """A model."""
    input_ = keras.Input(shape=(28, 28, 1), name="input")
    dense = layers.Dense(units=3, kernel_regularizer=keras.regularizers.L2(0.01), name="dense")(input_)
    model = keras.Model(inputs=input_, outputs=dense, name="m")
    return model
'''
    build = safe_build_model(ast.parse(script))
    assert build is not None and build().count_params() == 1 * 3 + 3  # Dense(3) on one channel
    smuggled = [script.replace('name="dense")', 'name=__import__("os").system("echo hi"))'),
                script.replace("keras.regularizers.L2(0.01)", 'keras.utils.get_file("x", "http://example.com/x")'),
                script.replace("    return model", '    open("/tmp/x", "w")\n    return model')]
    assert [safe_build_model(ast.parse(s)) for s in smuggled] == [None, None, None]


def test_a_folder_the_user_owns_is_never_offered_for_replacement(main_window, runs, tmp_path, monkeypatch):
    folder = tmp_path / "model_savedmodel"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    asked = []
    monkeypatch.setattr(dialog_module, "confirm_replace", lambda parent, paths: asked.append(paths) or True)
    dialog = feature(main_window).show_dialog()
    dialog.select_source(runs["lenet5"])
    dialog.folder.setText(str(tmp_path))
    dialog.base.setText("model")
    dialog.set_formats(["savedmodel"])
    assert not dialog.start_export() and not dialog.running and asked == []
    assert "holds other files, not a SavedModel CNN Studio wrote" in dialog.summary.text()
    assert "choose" in dialog.summary.text().lower() and "--out" not in dialog.summary.text()
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]


def test_a_larger_difference_is_accepted_only_when_chosen_in_the_dialog(qtbot, main_window, runs, tmp_path,
                                                                        in_worker):
    in_worker(attributes=[("cnnstudio.ml.export:predict_file", jobs_for_tests.slightly_off_predictions)])
    dialog = export(qtbot, main_window, tmp_path, ["onnx"], run_dir=runs["lenet5"])
    assert not dialog.results["onnx"].ok and "allow it with a tolerance of 0.01" in dialog.results["onnx"].detail
    dialog.tolerance.setCurrentIndex(dialog.tolerance.findData(0.01))
    assert dialog.start_export()
    qtbot.waitUntil(lambda: not dialog.running, timeout=180000)
    result = dialog.results["onnx"]
    assert result.ok and "allowed 0.01" in result.detail and (tmp_path / "model.onnx").is_file()
