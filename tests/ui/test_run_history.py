"""The Runs panel: every run listed with what differs, compared, reopened, marked older, deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnstudio.core.project import dumps
from cnnstudio.core.runs import differing_settings, load_history, network_fingerprint
from cnnstudio.core.templates import load_template

SETTINGS = {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "epochs": 3, "validation_split": 0.1,
            "seed": 0, "momentum": 0.0, "weight_decay": None, "loss": "auto", "metrics": ["accuracy"], "top_k": 5,
            "schedule": "constant", "schedule_params": {}, "early_stopping": None, "normalization": "scale",
            "max_steps_per_epoch": None}


def write_run(folder: Path, name: str, project, *, started: str, losses=(0.9, 0.5, 0.3), accuracy=(0.7, 0.85, 0.9),
              status: str = "finished", project_file: str | None = None, permute: int | None = None,
              **settings) -> Path:
    """A run folder as the trainer writes it: run.json, metrics.csv, project.cnnproj (and a model file)."""
    run = folder / name
    run.mkdir(parents=True)
    snapshot = project.copy()
    snapshot.dataset = {**snapshot.dataset, "permute_pixels": permute}
    snapshot.training = {**SETTINGS, **settings}
    (run / "project.cnnproj").write_text(dumps(snapshot), encoding="utf-8")
    rows = [(i + 1, loss, acc, loss + 0.05, acc - 0.02) for i, (loss, acc) in enumerate(zip(losses, accuracy))]
    (run / "metrics.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy\n"
                                     + "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    last = rows[-1]
    info = {"format": "cnnstudio-run", "version": 1, "epochs_completed": len(rows),
            "final": {"epoch": last[0], "epochs": len(rows), "loss": last[1], "accuracy": last[2],
                      "val_loss": last[3], "val_accuracy": last[4]},
            "project": project.name, "project_file": project_file, "settings": {**SETTINGS, **settings},
            "dataset": {"name": project.dataset["name"], "num_train": 7200, "num_validation": 800, "num_test": 2000},
            "status": status, "started": started, "seconds": 42.5,
            "test": {"loss": 0.31, "accuracy": 0.88, "top_k_accuracy": None}}
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    (run / "model.keras").write_bytes(b"not really a model")
    return run


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """The runs folder the window reads (the preference), empty."""
    from cnnstudio.ui import preferences

    folder = tmp_path / "runs"
    folder.mkdir()
    original = preferences.get

    monkeypatch.setattr(preferences, "get", lambda key: str(folder) if key == "runs_folder" else original(key))
    return folder


@pytest.fixture
def history_of(make_window, runs_dir):
    def make(project=None):
        window = make_window(project or load_template("lenet5"))
        history = window.features.runs
        history.refresh()
        return window, history

    return make


def test_runs_are_listed_newest_first_with_what_differs_metrics_and_duration(history_of, runs_dir):
    mlp, lenet = load_template("mlp"), load_template("lenet5")
    write_run(runs_dir, "mlp-plain", mlp, started="2026-01-02T10:00:00")
    write_run(runs_dir, "mlp-shuffled", mlp, started="2026-01-02T11:00:00", permute=3)
    write_run(runs_dir, "lenet-fast", lenet, started="2026-01-02T12:00:00", learning_rate=0.01)
    window, history = history_of()
    model = history.model
    assert [r.name for r in model.runs] == ["lenet-fast", "mlp-shuffled", "mlp-plain"]
    texts = {r.name: model.differs[r.path] for r in model.runs}
    assert texts == {"lenet-fast": "LeNet-5",  # runs of other projects: the project tells it apart
                     "mlp-shuffled": "Multi-layer perceptron, shuffled pixels",  # within one: what differs
                     "mlp-plain": "Multi-layer perceptron, plain pixels"}
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[1] == "2026-01-02 12:00" and row[5] == "3" and row[6:9] == ["90.0%", "88.0%", "88.0%"]
    assert row[9] == "42 s" and row[10] == "finished"
    assert "3 runs in" in history.where.text()


def test_run_comparison_overlays_two_runs(history_of, runs_dir, qtbot):
    project = load_template("mlp")
    a = write_run(runs_dir, "plain", project, started="2026-01-02T10:00:00", losses=(1.0, 0.6, 0.4))
    b = write_run(runs_dir, "shuffled", project, started="2026-01-02T11:00:00", losses=(1.2, 0.9, 0.7),
                  permute=1)
    window, history = history_of()
    history.select([a, b])
    assert history.compare_button.isEnabled()
    history.compare_button.click()
    view = history.comparison
    assert window.tabs.currentWidget() is view and window.tabs.tabText(window.tabs.indexOf(view)) == "Compare Runs"
    assert len(view.curves["loss"]) == len(view.curves["accuracy"]) == 2
    by_label = dict(zip(view.labels, view.curves["loss"], strict=True))
    assert set(by_label) == {"plain pixels", "shuffled pixels"}
    train, validation = by_label["shuffled pixels"]
    assert list(train.getData()[0]) == [1, 2, 3] and list(train.getData()[1]) == [1.2, 0.9, 0.7]
    assert [round(v, 2) for v in validation.getData()[1]] == [1.25, 0.95, 0.75]
    assert train.opts["pen"].color().name() != by_label["plain pixels"][0].opts["pen"].color().name()
    legend = view.legend.text()
    assert legend.index("plain pixels") < legend.index("shuffled pixels") and "dashed line: validation" in legend
    assert view.table.rowCount() == 2 and view.table.item(1, 1).text() == "shuffled pixels" and view.table.item(1, 9).text() == "shuffled"


def test_compare_is_offered_to_other_features_by_path(history_of, runs_dir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "lesson-runs"
    run = write_run(elsewhere, "lenet", load_template("lenet5"), started="2026-01-02T10:00:00")
    window, history = history_of()
    messages = []
    window.context.messages.shown.connect(lambda severity, text: messages.append((severity, text)))
    view = window.features.runs.compare([run, tmp_path / "not-a-run"])
    assert [s.name for s in view.summaries] == ["lenet"] and len(view.curves["accuracy"]) == 1
    assert messages[0][0] == "error" and "not-a-run is not a training run" in messages[0][1]


def test_a_change_to_the_network_marks_its_runs_as_older(history_of, runs_dir, qtbot, tmp_path):
    from cnnstudio.ui.editor.commands import SetParamCommand

    project = load_template("lenet5")
    project_file = tmp_path / "lenet.cnnproj"
    window, history = history_of(project)
    window.save_as(project_file)
    run = write_run(runs_dir, "before", window.document.project, started="2026-01-02T10:00:00",
                    project_file=str(project_file))
    other = write_run(runs_dir, "other-project", load_template("mlp"), started="2026-01-02T11:00:00")
    history.refresh()
    assert not history.is_older(run)
    window.document.push(SetParamCommand(window.document.network, "conv1", "filters", 8))
    qtbot.waitUntil(lambda: history.is_older(run), timeout=3000)
    assert not history.is_older(other)
    row = history.model.row_of(run)
    assert history.model.data(history.model.index(row, 10)) == "finished, older network"
    assert "older version" in history.model.data(history.model.index(row, 0), 3)  # ToolTipRole
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not history.is_older(run), timeout=3000)


def test_moving_a_layer_does_not_make_runs_older(history_of, runs_dir, qtbot):
    window, history = history_of()
    run = write_run(runs_dir, "run", window.document.project, started="2026-01-02T10:00:00")
    history.refresh()
    from cnnstudio.ui.editor.commands import MoveCommand

    window.document.push(MoveCommand(window.document.network, {"conv1": (None, (300.0, 40.0))}))
    assert not history._marks_timer.isActive()  # a move plans no new look at the runs
    assert not history.is_older(run)


def test_opening_a_run_for_inspection_sets_the_model_source(history_of, runs_dir):
    window, history = history_of()
    run = write_run(runs_dir, "run", window.document.project, started="2026-01-02T10:00:00")
    history.refresh()
    history.select([run])
    history.inspect_button.click()
    assert window.model_source.run_dir == run
    inspect = window.findChild(type(window.tabs), "inspectTabs")
    assert inspect is None or window.tabs.currentWidget() is inspect
    bold = history.model.data(history.model.index(0, 0), 6)  # FontRole
    assert bold is not None and bold.bold()


def test_export_opens_the_export_dialog_on_the_runs_model(history_of, runs_dir):
    window, history = history_of()
    run = write_run(runs_dir, "run", window.document.project, started="2026-01-02T10:00:00")
    history.refresh()
    history.select([run])
    assert history.export_button.isEnabled()
    history.export_button.click()
    from PySide6.QtWidgets import QDialog

    dialog = window.findChild(QDialog, "exportDialog")
    if dialog is None:
        assert window.model_source.run_dir == run  # without the export feature: the run is offered to it
        return
    assert dialog.isVisible() and dialog.source.run_dir == run
    dialog.close()


def test_putting_a_runs_network_in_the_editor_is_undoable(history_of, runs_dir):
    window, history = history_of()
    run = write_run(runs_dir, "mlp", load_template("mlp"), started="2026-01-02T10:00:00")
    history.use_network(run)
    assert [n.type for n in window.document.network][:2] == ["Input", "Flatten"]
    window.document.undo_stack.undo()
    assert "conv1" in window.document.network


def test_deleting_runs_moves_them_to_the_trash(history_of, runs_dir, monkeypatch):
    from cnnstudio.ui.runs import history as history_module

    trashed = []
    monkeypatch.setattr(history_module, "move_to_trash", lambda path: trashed.append(path) or True)
    window, history = history_of()
    run = write_run(runs_dir, "run", window.document.project, started="2026-01-02T10:00:00")
    history.refresh()
    window.model_source.set_run_dir(run)
    history.select([run])
    history.delete_button.click()
    assert trashed == [run] and window.model_source.run_dir is None


def test_without_a_trash_runs_are_deleted_only_after_asking(history_of, runs_dir, monkeypatch):
    from cnnstudio.ui.runs import history as history_module

    monkeypatch.setattr(history_module, "move_to_trash", lambda path: False)
    answers = iter([False, True])
    monkeypatch.setattr(history_module, "ask_delete_permanently", lambda parent, names: next(answers))
    window, history = history_of()
    run = write_run(runs_dir, "run", window.document.project, started="2026-01-02T10:00:00")
    history.refresh()
    assert history.delete([run]) == 0 and run.exists()
    assert history.delete([run]) == 1 and not run.exists()
    assert history.model.runs == [] and "No runs yet" in history.where.text()


def test_imported_models_and_interrupted_runs_are_marked(history_of, runs_dir):
    import os

    project = load_template("lenet5")
    imported = write_run(runs_dir, "imported-model", project, started="2026-01-02T10:00:00", status="imported")
    crashed = write_run(runs_dir, "crashed", project, started="2026-01-01T10:00:00", status="running")
    os.utime(crashed / "run.json", (1_700_000_000, 1_700_000_000))
    window, history = history_of()
    status = {r.name: history.model.data(history.model.index(history.model.row_of(r.path), 10))
              for r in history.model.runs}
    assert status == {"imported-model": "imported", "crashed": "interrupted"}
    assert imported.exists()


def test_a_new_run_folder_appears_without_pressing_refresh(history_of, runs_dir, qtbot):
    window, history = history_of()
    write_run(runs_dir, "from-the-command-line", window.document.project, started="2026-01-02T10:00:00")
    qtbot.waitUntil(lambda: len(history.model.runs) == 1, timeout=5000)


def test_reading_a_history_skips_what_is_not_a_run(tmp_path):
    project = load_template("lenet5")
    write_run(tmp_path, "good", project, started="2026-01-02T10:00:00")
    (tmp_path / "stray").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert [s.name for s in load_history(tmp_path)] == ["good"]


def test_settings_that_are_the_same_everywhere_are_not_listed(tmp_path):
    project = load_template("lenet5")
    a = write_run(tmp_path, "a", project, started="2026-01-02T10:00:00", batch_size=32)
    b = write_run(tmp_path, "b", project, started="2026-01-02T11:00:00", batch_size=128)
    summaries = load_history(tmp_path)
    assert differing_settings(summaries) == {a: "batch 32", b: "batch 128"}
    assert summaries[0].network == network_fingerprint(project.network.to_dict())


def test_a_run_trained_in_the_window_is_listed_and_a_later_edit_marks_it_older(history_of, runs_dir, qtbot,
                                                                               monkeypatch):
    """End to end with the real trainer: one tiny epoch, the record it writes read back by the panel."""
    from cnnstudio.ui.editor.commands import SetParamCommand

    window, history = history_of(load_template("mlp"))
    training = window.features.training
    from cnnstudio.ui.training import controller

    monkeypatch.setattr(controller, "ask_stop_and_close", lambda parent: True)  # never a modal question
    window.document.project.training.update(epochs=1, max_steps_per_epoch=3)
    followed = []
    training.started.connect(lambda _run: followed.append(history.active_run))
    with qtbot.waitSignal(training.runFinished, timeout=180000) as finished:
        assert training.start()
    run_dir = finished.args[0]
    assert followed == [run_dir]
    qtbot.waitUntil(lambda: history.active_run is None and history.model.row_of(run_dir) is not None, timeout=5000)
    row = history.model.row_of(run_dir)
    cells = [history.model.data(history.model.index(row, c)) for c in range(history.model.columnCount())]
    assert cells[3] == "mnist-sample" and cells[5] == "1" and cells[10] == "finished" and cells[8].endswith("%")
    assert not history.is_older(run_dir)
    window.document.push(SetParamCommand(window.document.network, "dense1", "units", 64))
    qtbot.waitUntil(lambda: history.is_older(run_dir), timeout=3000)


def test_runs_of_one_project_on_different_networks_are_numbered_oldest_first(tmp_path):
    project = load_template("lenet5")
    first = write_run(tmp_path, "first", project, started="2026-01-02T10:00:00")
    changed = project.copy()
    changed.network.set_param("conv1", "filters", 12)
    second = write_run(tmp_path, "second", changed, started="2026-01-02T11:00:00")
    again = write_run(tmp_path, "again", project, started="2026-01-02T12:00:00")
    assert differing_settings(load_history(tmp_path)) == {again: "network 1", second: "network 2", first: "network 1"}


def test_what_a_run_name_already_says_is_not_repeated(tmp_path):
    plain, shuffled = load_template("mlp"), load_template("mlp")
    plain.name, shuffled.name = "MLP, plain pixels", "MLP, shuffled pixels"
    a = write_run(tmp_path, "a", plain, started="2026-01-02T10:00:00")
    b = write_run(tmp_path, "b", shuffled, started="2026-01-02T11:00:00", permute=3)
    c = write_run(tmp_path, "c", load_template("lenet5"), started="2026-01-02T12:00:00", permute=3)
    assert differing_settings(load_history(tmp_path)) == {
        a: "MLP, plain pixels", b: "MLP, shuffled pixels", c: "LeNet-5, shuffled pixels"}
