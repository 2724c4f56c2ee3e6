"""The window's ML client: jobs run on the right model, loaded once, and answer on the GUI thread —
through the worker process and through the in-process ML thread alike."""

from __future__ import annotations

import pytest

from cnnstudio.core.templates import load_template
from cnnstudio.ml.jobs.requests import LayerKernelsRequest, PingRequest
from cnnstudio.ui.document import ProjectDocument
from cnnstudio.ui.ml_client import MLClient
from cnnstudio.ui.ml_thread import MLThread
from cnnstudio.ui.ml_worker import WorkerTransport
from cnnstudio.ui.model_source import ModelSource

from .jobs_for_tests import NeedsModel, WaitAtGate


@pytest.fixture(params=["worker", "thread"])
def client(request, qtbot, ml_worker):
    document = ProjectDocument(load_template("lenet5"))
    transport = WorkerTransport(ml_worker) if request.param == "worker" else MLThread()
    client = MLClient(document, transport, ModelSource())
    yield client
    assert transport.shutdown()


def test_the_untrained_network_is_loaded_once_and_answers_come_back(client, qtbot):
    answers = []
    with qtbot.waitSignal(client.modelReady, timeout=30000) as ready:
        client.with_model(LayerKernelsRequest(), on_result=answers.append)
    facts = ready.args[0]
    assert facts.source == "untrained network" and facts.conv_layers == ["conv1", "conv2"]
    assert facts.input_shape == (28, 28, 1) and facts.grad_cam_layer == "conv2"
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=30000)
    assert answers[0].layer == "conv1" and answers[0].kernels.shape == (6, 5, 5, 1)
    with qtbot.assertNotEmitted(client.modelReady):
        client.with_model(PingRequest(1), on_result=answers.append)
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


def test_a_newer_keyed_job_replaces_one_still_waiting_and_errors_are_plain(client, qtbot, tmp_path):
    gate = tmp_path / "gate"
    results, errors, held = [], [], []
    client.run(WaitAtGate(str(gate)), on_event=lambda kind, _payload: held.append(kind))
    client.run(PingRequest("old"), on_result=results.append, key="k")
    client.run(PingRequest("new"), on_result=results.append, key="k")
    client.run(NeedsModel(), on_error=errors.append)
    qtbot.waitUntil(lambda: held == ["waiting"], timeout=30000)  # "old" is still waiting when it is replaced
    gate.touch()
    qtbot.waitUntil(lambda: results == ["new"] and len(errors) == 1 and "no model is loaded" in errors[0], timeout=30000)


def test_a_job_cancelled_before_it_ran_is_reported_to_whoever_asked(client, qtbot, tmp_path):
    gate = tmp_path / "gate"
    cancelled, results, held = [], [], []
    client.run(WaitAtGate(str(gate)), on_event=lambda kind, _payload: held.append(kind))
    job = client.run(PingRequest("never"), on_result=results.append, on_cancelled=lambda: cancelled.append(True))
    job.cancel()
    qtbot.waitUntil(lambda: held == ["waiting"], timeout=30000)
    gate.touch()
    qtbot.waitUntil(lambda: cancelled == [True], timeout=30000)
    assert results == [] and not client.busy
