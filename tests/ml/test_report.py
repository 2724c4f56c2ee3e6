"""The run report: one self-contained HTML page with the architecture, curves, metrics, confusion matrix
and sample predictions of a training run."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.templates import load_template
from cnnstudio.ml.report import write_report
from cnnstudio.ml.report_charts import nice_ticks

VOID = {"meta", "img", "br", "rect", "line", "circle", "polyline", "path", "input", "link"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """LeNet-5 trained for two tiny epochs on the MNIST sample (5% kept for validation)."""
    from cnnstudio.ml.trainer import Trainer, TrainingSettings

    project = load_template("lenet5")
    settings = TrainingSettings.from_project(project, epochs=2, max_steps_per_epoch=2, validation_split=0.05)
    run_dir = tmp_path_factory.mktemp("runs") / "lenet5-run"
    Trainer(project, settings=settings, run_dir=run_dir, evaluate_test=False).run()
    return run_dir


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    summary = write_report(run, out, samples=12)
    return summary, out.read_text(encoding="utf-8")


class Structure(HTMLParser):
    """Checks that every element is closed in order, and collects what the tests look at."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.cells: list[dict] = []
        self.images: list[dict] = []
        self.layer_rows = 0
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "rect" and attrs.get("class") == "cell":
            self.cells.append(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "tr" and attrs.get("class") == "layer":
            self.layer_rows += 1
        for key in ("src", "href"):
            if attrs.get(key) and not attrs[key].startswith("data:"):
                self.external.append(attrs[key])
        if tag == "script":
            self.problems.append("a script")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID and (not self.stack or self.stack[-1] != tag):
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def parse(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    return parser


def test_the_report_is_one_well_formed_self_contained_page(report):
    _, text = report
    page = parse(text)
    assert text.startswith("<!DOCTYPE html>") and page.problems == [] and page.stack == []
    assert page.external == []  # nothing fetched: images and charts are inline


def test_the_architecture_table_has_a_row_per_layer_with_shapes_parameters_and_fields(report):
    _, text = report
    assert parse(text).layer_rows == 9
    conv1 = re.search(r"<tr class='layer'><td><code>conv1</code></td>(.*?)</tr>", text).group(1)
    assert "Conv2D" in conv1 and "28x28x6" in conv1 and ">156<" in conv1 and "5x5" in conv1
    assert "61,706" in text  # LeNet-5's parameter count in the totals row


def test_the_final_metrics_come_from_the_run_record(run, report):
    _, text = report
    final = json.loads((run / "run.json").read_text())["final"]
    assert f"{100 * final['val_accuracy']:.1f}%" in text
    assert f"{final['loss']:.4g}" in text


def test_the_confusion_matrix_cells_sum_to_the_validation_split(run, report):
    summary, text = report
    cells = parse(text).cells
    num_validation = json.loads((run / "run.json").read_text())["dataset"]["num_validation"]
    assert len(cells) == 10 * 10
    assert sum(int(c["data-count"]) for c in cells) == num_validation == summary.evaluated == 400
    assert summary.split == "validation"
    right = sum(int(c["data-count"]) for c in cells if c["data-true"] == c["data-predicted"])
    assert right / num_validation == pytest.approx(summary.accuracy)


def test_the_sample_grid_holds_the_requested_number_of_png_thumbnails(report):
    summary, text = report
    images = parse(text).images
    assert summary.samples == len(images) == 12
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert all(img["alt"].startswith("predicted ") for img in images)


def test_both_learning_curves_are_drawn_for_training_and_validation(report):
    _, text = report
    assert text.count("<svg xmlns='http://www.w3.org/2000/svg' class='chart'") == 2
    assert text.count("data-series='training'") == 2 and text.count("data-series='validation'") == 2


def test_a_run_without_validation_or_test_evaluation_says_so_instead_of_a_matrix(tmp_path):
    from cnnstudio.ml.trainer import Trainer, TrainingSettings

    project = load_template("lenet5")
    settings = TrainingSettings.from_project(project, epochs=1, max_steps_per_epoch=1, validation_split=0.0)
    Trainer(project, settings=settings, run_dir=tmp_path / "run", evaluate_test=False).run()
    summary = write_report(tmp_path / "run", tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert summary.split is None and summary.samples == 0 and "class='cell'" not in text
    assert "no evaluation" in summary.note and summary.note in text.replace("&#x27;", "'")


def test_a_folder_that_is_not_a_run_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(UserError, match="is not a training run"):
        write_report(tmp_path, tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == []


def test_axis_ticks_are_round_numbers_covering_the_range():
    assert nice_ticks(0, 2.3) == [0, 1, 2, 3]
    assert nice_ticks(0, 0.9) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.12, 0.87)[0] <= 0.12 and nice_ticks(0.12, 0.87)[-1] >= 0.87


@pytest.mark.parametrize("kind", ["two inputs", "per-pixel map"])
def test_a_run_of_a_network_that_is_not_one_classifier_still_gets_a_report(run, tmp_path, kind):
    """Several inputs, or an output that is a map rather than class scores: the page says why there is no
    confusion matrix instead of failing."""
    import shutil

    import keras

    run_dir = tmp_path / "other-run"
    shutil.copytree(run, run_dir)
    image = keras.Input((28, 28, 1), name="image")
    if kind == "two inputs":
        extra = keras.Input((3,), name="extra")
        joined = keras.layers.Concatenate(name="joined")([keras.layers.Flatten(name="flat")(image), extra])
        model = keras.Model([image, extra], keras.layers.Dense(10, activation="softmax", name="out")(joined))
        expected = "2 input(s) and 1 output(s)"
    else:
        model = keras.Model(image, keras.layers.Conv2D(10, 1, activation="softmax", name="mask")(image))
        expected = "not one score per class"
    model.save(run_dir / "model.keras")
    summary = write_report(run_dir, tmp_path / "report.html", samples=4)
    assert summary.split is None and expected in summary.note
    assert expected in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_submodels_of_a_two_input_network_take_both_inputs():
    import keras
    import numpy as np

    from cnnstudio.ml.inspection.cache import submodels_for

    image, extra = keras.Input((4, 4, 1), name="image"), keras.Input((2,), name="extra")
    flat = keras.layers.Flatten(name="flat")(image)
    model = keras.Model([image, extra], keras.layers.Dense(3, name="out")(
        keras.layers.Concatenate(name="joined")([flat, extra])))
    subs = submodels_for(model)
    assert subs.input_shapes == [(4, 4, 1), (2,)]
    x = [np.ones((2, 4, 4, 1), np.float32), np.ones((2, 2), np.float32)]
    assert subs.features(("flat", "out"))(x)[1].shape == (2, 3)
    assert np.allclose(subs.forward()(*x), model.predict(x, verbose=0), atol=1e-6)
