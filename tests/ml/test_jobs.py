"""ML jobs are plain functions named by picklable requests: they run from a test without Qt, and every
call could be sent to another process."""

import dataclasses
import inspect
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.templates import load_template
from cnnstudio.ml.jobs import requests, results
from cnnstudio.ml.jobs.host import JobHost
from cnnstudio.ml.jobs.protocol import MODEL_READY, JobCall, ModelChoice, job_function
from cnnstudio.ml.training.reporting import RunControl

PROJECT = load_template("lenet5")
IMAGE = results.InputImage(np.zeros((28, 28, 1), np.float32), "blank")

# One example of every request, with plain values of the kinds the window sends.
EXAMPLES = {
    requests.LoadModelRequest: requests.LoadModelRequest(),
    requests.LayerKernelsRequest: requests.LayerKernelsRequest("conv1"),
    requests.AnalyseRequest: requests.AnalyseRequest(IMAGE, with_maps=True),
    requests.PictureRequest: requests.PictureRequest(np.zeros((8, 8), np.uint8), "dot.png", "file"),
    requests.DatasetIndexRequest: requests.DatasetIndexRequest(),
    requests.DatasetImageRequest: requests.DatasetImageRequest("validation", 3),
    requests.MisclassifiedRequest: requests.MisclassifiedRequest("validation"),
    requests.EvaluateRequest: requests.EvaluateRequest("test"),
    requests.ExplainRequest: requests.ExplainRequest(IMAGE.image, "grad-cam", 3, "conv2"),
    requests.DatasetExampleRequest: requests.DatasetExampleRequest("validation", 0),
    requests.MaximizeRequest: requests.MaximizeRequest("filters", "conv1", (0, 2), {"steps": 4}),
    requests.RunRequest: requests.RunRequest(PROJECT.copy(), Path("runs"), "plain", "conv1", None, False),
    requests.FinalLookRequest: requests.FinalLookRequest("conv1", IMAGE.image, 2),
    requests.RunImagesRequest: requests.RunImagesRequest(Path("runs/lenet5"), (3, 1, 4)),
    requests.LabelCheckRequest: requests.LabelCheckRequest(Path("runs/photos"), 12),
    requests.ExperimentRunRequest: requests.ExperimentRunRequest(Path("runs/lenet5-exp"), 1, 2.5, False),
    requests.PreviewRequest: requests.PreviewRequest(PROJECT.copy(), 8, 1),
    requests.AugmentRequest: requests.AugmentRequest(np.zeros((2, 28, 28, 1), np.float32),
                                                     ({"type": "RandomFlip", "params": {}},)),
    requests.ExportPlan: requests.ExportPlan(PROJECT.copy(), None, (requests.ExportItem("keras", Path("m.keras")),)),
    requests.ImportRequest: requests.ImportRequest(Path("model.keras"), Path("runs")),
    requests.DevicesRequest: requests.DevicesRequest(),
    requests.PingRequest: requests.PingRequest("hello"),
    requests.WeightsRequest: requests.WeightsRequest(PROJECT.copy()),
}


def request_classes() -> list[type]:
    return [cls for _name, cls in inspect.getmembers(requests, inspect.isclass)
            if cls.__module__ == requests.__name__ and hasattr(cls, "JOB")]


def test_every_request_has_an_example_here():
    assert set(request_classes()) == set(EXAMPLES)


@pytest.mark.parametrize("cls", request_classes(), ids=lambda cls: cls.__name__)
def test_every_job_function_is_found_by_name_and_takes_workspace_request_progress(cls):
    function = job_function(EXAMPLES[cls])
    assert callable(function) and function.__module__.startswith("cnnstudio.ml.jobs.")
    assert list(inspect.signature(function).parameters) == ["workspace", "request", "progress"]


@pytest.mark.parametrize("cls", request_classes(), ids=lambda cls: cls.__name__)
def test_every_request_pickles_with_the_model_to_load(cls):
    call = JobCall(EXAMPLES[cls], ModelChoice(PROJECT.copy(), Path("runs/lenet5")))
    again = pickle.loads(pickle.dumps(call))
    assert type(again.request) is cls and again.model.run_dir == Path("runs/lenet5")
    assert again.model.project.network.to_dict() == PROJECT.network.to_dict()
    for field in dataclasses.fields(cls):
        before, after = getattr(call.request, field.name), getattr(again.request, field.name)
        if isinstance(before, np.ndarray):
            np.testing.assert_array_equal(before, after)


def test_the_window_side_of_the_jobs_loads_no_tensorflow():
    code = ("import sys; import cnnstudio.ml.jobs.requests, cnnstudio.ml.jobs.results, "
            "cnnstudio.ml.jobs.protocol, cnnstudio.ml.jobs.writing; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class Recorder:
    """A Progress that keeps what the job said."""

    def __init__(self) -> None:
        self.control = RunControl()
        self.events: list[tuple[str, object]] = []

    def event(self, kind, payload=None) -> None:
        self.events.append((kind, payload))

    @property
    def cancelled(self) -> bool:
        return self.control.stopping


def test_a_job_runs_from_a_test_without_qt_and_its_result_pickles():
    host, progress = JobHost(), Recorder()
    analysis = host.run(JobCall(requests.AnalyseRequest(IMAGE, with_maps=True), ModelChoice(PROJECT.copy())),
                        progress)
    assert [kind for kind, _ in progress.events] == [MODEL_READY]
    assert progress.events[0][1].conv_layers == ["conv1", "conv2"]
    assert analysis.probabilities.shape == (10,) and set(analysis.activations) >= {"conv1", "conv2"}
    again = pickle.loads(pickle.dumps(analysis))
    np.testing.assert_array_equal(again.activations["conv1"], analysis.activations["conv1"])
    assert host.run(JobCall(requests.PingRequest(7)), progress) == 7 and len(progress.events) == 1


def test_the_experiment_job_trains_the_next_run_reports_it_and_the_rest_waits(tmp_path):
    from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
    from cnnstudio.core.experiments import Experiment
    from tests.ml.test_trainer import tiny_project, write_quadrants

    (tmp_path / "data").mkdir()
    project = tiny_project("npz:" + str(write_quadrants(tmp_path / "data")), epochs=1)
    experiment = Experiment.create(tmp_path / "exp", project,
                                   ExperimentSpec(vary=(Variation("conv.filters", (2, 4)),), seeds=1))
    host, progress = JobHost(), Recorder()
    step = host.run(JobCall(requests.ExperimentRunRequest(experiment.folder, runs=1)), progress)
    kinds = [kind for kind, _ in progress.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_ended" and "epoch" in kinds
    started = progress.events[0][1]
    assert (started.run.index, started.total, started.done) == (1, 2, 0)
    assert [r.index for r in step.trained] == [1] and step.left == 1 and not step.stopped
    assert step.trained[0].status == "finished" and step.trained[0].test_accuracy is not None
    assert [r.status for r in Experiment.open(experiment.folder).runs] == ["finished", "pending"]
    assert pickle.loads(pickle.dumps(step)).trained[0].values == {"conv.filters": 2}
    progress.control.stop()  # the window's Stop before the next run: nothing more is trained
    step = host.run(JobCall(requests.ExperimentRunRequest(experiment.folder, runs=1)), progress)
    assert step.stopped and step.trained == () and step.left == 1
