"""The GUI's handle on the ML thread's workspace: the right model, loaded once, answers on the GUI thread."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")

from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ui.document import ProjectDocument  # noqa: E402
from cnnstudio.ui.ml_thread import MLThread  # noqa: E402
from cnnstudio.ui.model_source import ModelSource  # noqa: E402
from cnnstudio.ui.workspace import WorkspaceClient  # noqa: E402


@pytest.fixture
def client(qtbot):
    document = ProjectDocument(load_template("lenet5"))
    thread = MLThread()
    client = WorkspaceClient(document, thread, ModelSource())
    yield client
    thread.shutdown()


def test_the_untrained_network_is_loaded_once_and_answers_come_back(client, qtbot):
    answers = []
    with qtbot.waitSignal(client.modelReady, timeout=30000) as ready:
        client.with_model(lambda ws: ws.inspector.conv_layers(), on_result=answers.append)
    facts = ready.args[0]
    assert facts.source == "untrained network" and facts.conv_layers == ["conv1", "conv2"]
    assert facts.input_shape == (28, 28, 1) and facts.grad_cam_layer == "conv2"
    qtbot.waitUntil(lambda: answers == [["conv1", "conv2"]], timeout=30000)
    with qtbot.assertNotEmitted(client.modelReady, wait=200):
        client.with_model(lambda ws: 1, on_result=answers.append)
        qtbot.waitUntil(lambda: answers[-1] == 1, timeout=30000)


def test_editing_the_network_makes_the_model_stale_and_the_next_job_rebuilds_it(client, qtbot):
    with qtbot.waitSignal(client.modelReady, timeout=30000):
        client.load_model()
    from cnnstudio.ui.editor.commands import SetParamCommand

    with qtbot.waitSignal(client.stale, timeout=2000):
        client.document.push(SetParamCommand(client.document.network, "conv1", "filters", 4))
    with qtbot.waitSignal(client.modelReady, timeout=30000) as ready:
        client.load_model()
    assert dict((layer.name, layer.output_shape) for layer in ready.args[0].layers)["conv1"] == (28, 28, 4)


def test_a_newer_keyed_job_replaces_one_still_waiting_and_errors_are_plain(client, qtbot):
    import threading

    gate, results, errors = threading.Event(), [], []
    client.run(lambda ws: gate.wait(10))
    client.run(lambda ws: "old", on_result=results.append, key="k")
    client.run(lambda ws: "new", on_result=results.append, key="k")
    client.run(lambda ws: ws.require_model(), on_error=errors.append)
    gate.set()
    qtbot.waitUntil(lambda: results == ["new"] and len(errors) == 1 and "no model is loaded" in errors[0], timeout=10000)
