"""File > Import Keras Model… and dropping a model file: the network opens in the editor with its weights
kept, the inspection views use those weights, and unsafe or broken files change nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cnnstudio.ui import dialogs  # noqa: E402
from cnnstudio.ui.exporting import TransferFeature, importing  # noqa: E402

from .helpers import save_tiny_residual  # noqa: E402

LAYERS = ["image", "conv_a", "conv_b", "skip", "pool", "scores"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A small functional model with a skip connection, one with a Lambda layer, and a broken file."""
    import keras

    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(3)
    model = save_tiny_residual(folder / "tiny_residual.keras")
    inputs = keras.Input((28, 28, 1))
    doubled = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    flat = keras.layers.Flatten()(doubled)
    keras.Model(inputs, keras.layers.Dense(10)(flat)).save(folder / "with_lambda.keras")
    (folder / "broken.keras").write_bytes(b"this is not a zip file")
    sequence = keras.Input((28, 28))
    recurrent = keras.layers.LSTM(8, name="memory")(sequence)
    unit = keras.layers.UnitNormalization(name="unit")(recurrent)
    keras.Model(sequence, keras.layers.Dense(10)(unit)).save(folder / "unsupported.keras")
    return {"unsupported": folder / "unsupported.keras", "functional": folder / "tiny_residual.keras", "lambda": folder / "with_lambda.keras",
            "broken": folder / "broken.keras", "weights": {n: model.get_layer(n).get_weights()
                                                          for n in ("conv_a", "conv_b", "scores")}}


def texts(error_dialogs) -> list[str]:
    """What the "Cannot import model" dialogs the window showed said."""
    assert {title for title, _text in error_dialogs} <= {"Cannot import model"}
    return [text for _title, text in error_dialogs]


def importer(window) -> importing.ModelImporter:
    return window.findChild(TransferFeature, "transferFeature").importer


def wait_until_done(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not importer(window).busy, timeout=60000)


def test_importing_through_the_file_menu_opens_the_network_as_a_new_unsaved_project(
        qtbot, main_window, models, monkeypatch):
    monkeypatch.setattr(importing, "choose_model_file", lambda parent, folder="": models["functional"])
    main_window.actions_["import_model"].trigger()
    wait_until_done(qtbot, main_window)
    document = main_window.document
    assert list(document.network.nodes) == LAYERS
    assert sorted(main_window.editor.scene.nodes) == sorted(LAYERS)
    assert document.network.edges.count(("conv_a", "skip")) == 1 and ("conv_b", "skip") in document.network.edges
    assert document.name == "tiny_residual" and document.path is None and document.is_modified
    positions = {tuple(node.position) for node in document.network}
    assert len(positions) == len(LAYERS)  # laid out, no two layers on the same spot


def test_the_imported_weights_are_kept_in_a_run_and_the_inspection_workspace_loads_them(
        qtbot, main_window, models, monkeypatch):
    importer(main_window).import_file(models["functional"])
    wait_until_done(qtbot, main_window)
    run_dir = main_window.model_source.run_dir
    assert run_dir is not None and (run_dir / "model.keras").is_file() and run_dir.parent.name == "runs"
    from .jobs_for_tests import LayerWeights

    loaded = []
    main_window.context.ml.with_model(LayerWeights(tuple(models["weights"])), on_result=loaded.append)
    qtbot.waitUntil(lambda: bool(loaded), timeout=60000)
    assert main_window.context.ml.facts.run_dir == run_dir
    for name, weights in models["weights"].items():
        assert all(np.array_equal(a, b) for a, b in zip(loaded[0][name], weights, strict=True)), name
    log = [main_window.messages.tree.topLevelItem(i).text(1)
           for i in range(main_window.messages.tree.topLevelItemCount())]
    assert any("Imported tiny_residual.keras" in line and "fine-tune" in line for line in log)


def _drop_event(path: Path, kind):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    if kind is QDragEnterEvent:
        event = QDragEnterEvent(QPointF(50, 50).toPoint(), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    else:
        event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
    return event, mime


def test_dropping_a_model_file_on_the_window_imports_it(qtbot, main_window, models):
    enter, _mime = _drop_event(models["functional"], QDragEnterEvent)
    QApplication.sendEvent(main_window, enter)
    assert enter.isAccepted()
    drop, _mime2 = _drop_event(models["functional"], QDropEvent)
    QApplication.sendEvent(main_window.editor.view.viewport(), drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: main_window.model_source.run_dir is not None, timeout=60000)
    assert list(main_window.document.network.nodes) == LAYERS


def test_dragging_a_file_that_is_not_a_model_is_not_taken(main_window, tmp_path):
    picture = tmp_path / "digit.png"
    picture.write_bytes(b"png")
    enter, _mime = _drop_event(picture, QDragEnterEvent)
    enter.ignore()
    QApplication.sendEvent(main_window, enter)
    assert not enter.isAccepted()


def test_a_model_with_a_lambda_layer_is_refused_and_the_editor_is_unchanged(qtbot, main_window, models, error_dialogs):
    before = main_window.document.network.to_dict()
    assert importer(main_window).import_file(models["lambda"])
    wait_until_done(qtbot, main_window)
    errors = texts(error_dialogs)
    assert len(errors) == 1
    assert "refused for safety" in errors[0] and "Lambda" in errors[0] and "Nothing was" in errors[0]
    assert main_window.document.network.to_dict() == before and main_window.document.name == "LeNet-5"
    assert main_window.model_source.run_dir is None and not main_window.document.is_modified


def test_every_unsupported_layer_is_named_in_one_dialog(qtbot, main_window, models, error_dialogs):
    before = main_window.document.network.to_dict()
    importer(main_window).import_file(models["unsupported"])
    wait_until_done(qtbot, main_window)
    errors = texts(error_dialogs)
    assert len(errors) == 1 and "LSTM 'memory'" in errors[0] and "UnitNormalization 'unit'" in errors[0]
    assert main_window.document.network.to_dict() == before and main_window.model_source.run_dir is None


def test_a_broken_file_is_explained_in_one_dialog_and_nothing_changes(qtbot, main_window, models, error_dialogs):
    before = main_window.document.network.to_dict()
    importer(main_window).import_file(models["broken"])
    wait_until_done(qtbot, main_window)
    errors = texts(error_dialogs)
    assert len(errors) == 1 and errors[0].startswith("broken.keras") and "Traceback" not in errors[0]
    assert main_window.document.network.to_dict() == before and main_window.model_source.run_dir is None


def test_a_file_that_is_not_a_keras_model_is_refused_before_anything_runs(main_window, tmp_path, error_dialogs):
    other = tmp_path / "weights.npz"
    other.write_bytes(b"")
    assert not importer(main_window).import_file(other)
    assert not importer(main_window).busy and "not a Keras model file" in texts(error_dialogs)[0]


def test_unsaved_changes_are_asked_about_and_cancel_keeps_the_project(main_window, models, monkeypatch):
    main_window.document.mark_modified()
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: asked.append(name) or dialogs.CANCEL)
    assert not importer(main_window).import_file(models["functional"])
    assert asked == ["LeNet-5"] and not importer(main_window).busy
    assert main_window.document.name == "LeNet-5"
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: dialogs.DISCARD)  # let it close
