"""A one-page HTML report of a training run, to hand in, print or share.

    write_report("runs/lenet5-20250101-120000", "lenet5-report.html")

One self-contained file (inline CSS, inline SVG charts, thumbnails as base64 PNG; no
scripts, nothing fetched): the architecture table from the core analysis of the run's
project snapshot, loss and accuracy curves from metrics.csv, the final metrics and
settings from run.json, and — from evaluating the run's model on its validation split
(the test split only when the run already evaluated it) — a confusion matrix and a grid
of sample predictions. Written atomically; light colours, so it prints as it looks.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.analysis import analyze
from ..core.catalog import CATALOG, dims_text
from ..core.errors import UserError
from ..core.files import atomic_write_text, write_error
from ..core.project import Project, load_project
from .report_charts import confusion_svg, line_chart_svg
from .runs import read_metrics, read_run_info

THUMBNAIL_SIDE = 64


@dataclass(frozen=True)
class ReportSummary:
    """What went into a written report (the export dialog shows it)."""

    path: Path
    size_bytes: int
    split: str | None  # the split the confusion matrix and samples come from, or None
    evaluated: int  # images evaluated for the confusion matrix
    accuracy: float | None
    samples: int
    note: str = ""  # why there is no evaluation, when there is none


@dataclass(frozen=True)
class _Evaluation:
    split: str
    class_names: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    images: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray


def write_report(run_dir: str | Path, out_html: str | Path, *, samples: int = 16, dataset: Any = None,
                 model: Any = None) -> ReportSummary:
    """Write the report of the run in `run_dir` to `out_html` (see the module docstring).

    `dataset` and `model` may be passed when already loaded (the app's workspace keeps them);
    otherwise the run's dataset and model.keras are loaded here.
    """
    run_dir, out_html = Path(run_dir), Path(out_html)
    info = read_run_info(run_dir)
    snapshot = run_dir / "project.cnnproj"
    if info is None or not snapshot.is_file():
        raise UserError(f"{run_dir} is not a training run (it has no run.json and project.cnnproj); "
                        "choose a run folder")
    if not out_html.parent.is_dir():
        raise UserError(f"{out_html.parent}: no such folder; create it or choose another folder")
    project = load_project(snapshot)
    metrics = read_metrics(run_dir) if (run_dir / "metrics.csv").is_file() else []
    evaluation, note = None, ""
    try:
        evaluation = _evaluate(run_dir, project, info, dataset, model)
    except UserError as exc:
        note = str(exc)
    picks = _pick_samples(evaluation, samples)
    page = _page(run_dir, project, info, metrics, evaluation, note, picks)
    try:
        atomic_write_text(out_html, page)
    except OSError as exc:
        raise write_error(exc, out_html, "the report") from None
    return ReportSummary(out_html, out_html.stat().st_size, evaluation.split if evaluation else None,
                         len(evaluation.labels) if evaluation else 0,
                         evaluation.accuracy if evaluation else None, len(picks), note)


# -- evaluation --------------------------------------------------------------------------------

def _evaluate(run_dir: Path, project: Project, info: dict, dataset: Any, model: Any) -> _Evaluation:
    from .inspection import evaluate_split

    if model is None:
        model = _load_model(run_dir)
    if dataset is None:
        dataset = _load_dataset(project)
    split = "validation" if dataset.num_validation else ("test" if info.get("test") and dataset.num_test else None)
    if split is None:
        raise UserError("no evaluation: the run kept no validation images (validation split 0) and was not "
                        "evaluated on the test split")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UserError(f"no evaluation: the model has {len(model.inputs)} input(s) and {len(model.outputs)} "
                        "output(s); the report evaluates networks with one image input and one output")
    if len(model.outputs[0].shape) != 2:
        raise UserError("no evaluation: the model's output is not one score per class (it has the shape "
                        f"{dims_text(tuple(model.outputs[0].shape[1:]))}), so there is no confusion matrix")
    model_shape = tuple(model.inputs[0].shape[1:])
    if tuple(dataset.input_shape) != model_shape:
        raise UserError(f"no evaluation: the model takes {dims_text(model_shape)} inputs but the dataset "
                        f"'{dataset.name}' gives {dims_text(dataset.input_shape)} images")
    x, y = dataset.arrays(split)
    result = evaluate_split(model, x, y, dataset.class_names)
    return _Evaluation(split, result.class_names, result.confusion, result.accuracy, x, result.labels,
                       result.probabilities)


def _load_model(run_dir: Path):
    from .export import load_keras_model

    for candidate in (run_dir / "model.keras", run_dir / "checkpoints" / "last.keras"):
        if candidate.is_file():
            return load_keras_model(candidate)
    raise UserError("no evaluation: the run holds no trained model (model.keras)")


def _load_dataset(project: Project):
    from .data import load_dataset
    from .training.preparation import dataset_options
    from .training.settings import TrainingSettings

    name = str(project.dataset.get("name") or "")
    try:
        return load_dataset(name, **dataset_options(project, TrainingSettings.from_project(project)))
    except UserError as exc:
        raise UserError(f"no evaluation: the dataset '{name}' could not be loaded ({exc})") from None


def _pick_samples(evaluation: _Evaluation | None, count: int) -> list[int]:
    if evaluation is None or count <= 0:
        return []
    n = len(evaluation.labels)
    return sorted(np.random.default_rng(0).choice(n, size=min(count, n), replace=False).tolist())


# -- the page ------------------------------------------------------------------------------------

def _page(run_dir: Path, project: Project, info: dict, metrics: list[dict], evaluation: _Evaluation | None,
          note: str, picks: list[int]) -> str:
    e = html.escape
    title = f"{project.name} — {run_dir.name}"
    sections = [
        f"<header><h1>{e(project.name)}</h1><p class='sub'>Training run <b>{e(run_dir.name)}</b> · "
        f"{e(_when(info))} · {e(str(info.get('status', 'unknown')))}</p></header>",
        _metrics_section(info, evaluation, project),
        "<section class='charts'><h2>Learning curves</h2>" + _curves(metrics) + "</section>",
    ]
    if evaluation is not None:
        sections.append(
            "<section class='pair'><div><h2>Confusion matrix</h2>"
            f"<p class='note'>{len(evaluation.labels):,} {e(evaluation.split)} images; rows: true class, "
            "columns: predicted class; shade: share of the row.</p>"
            f"{confusion_svg(evaluation.confusion, evaluation.class_names)}</div>"
            f"<div><h2>Sample predictions</h2>{_samples_html(evaluation, picks)}</div></section>")
    else:
        sections.append(f"<section><h2>Evaluation</h2><p class='note'>{e(note)}</p></section>")
    sections.append(_architecture_section(project))
    sections.append(_settings_section(project, info))
    sections.append(f"<footer>Made with CNN Studio on {datetime.date.today().isoformat()} from "
                    f"{e(str(run_dir))}</footer>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _when(info: dict) -> str:
    stamp = info.get("finished") or info.get("started") or ""
    return str(stamp).replace("T", " ") or "date unknown"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _metrics_section(info: dict, evaluation: _Evaluation | None, project: Project) -> str:
    final = info.get("final") or {}
    test = info.get("test") or {}
    settings = info.get("settings") or {}
    total = analyze(project.network).total_params
    cards = [("Training accuracy", _percent(final.get("accuracy"))),
             ("Training loss", _number(final.get("loss"))),
             ("Validation accuracy", _percent(final.get("val_accuracy"))),
             ("Validation loss", _number(final.get("val_loss")))]
    if test.get("accuracy") is not None:
        cards += [("Test accuracy", _percent(test.get("accuracy"))), ("Test loss", _number(test.get("loss")))]
    epochs = info.get("epochs_completed")
    planned = settings.get("epochs")
    cards.append(("Epochs", f"{epochs if epochs is not None else '—'}"
                  + (f" of {planned}" if planned and planned != epochs else "")))
    seconds = info.get("seconds")
    cards.append(("Training time", "—" if seconds is None else _duration(float(seconds))))
    cards.append(("Parameters", f"{total:,}"))
    if evaluation is not None:
        cards.append((f"Accuracy on {evaluation.split} (this report)", _percent(evaluation.accuracy)))
    body = "".join(f"<div class='card'><span>{html.escape(k)}</span><b>{html.escape(v)}</b></div>"
                   for k, v in cards)
    message = info.get("message")
    extra = f"<p class='note'>{html.escape(str(message))}</p>" if message else ""
    return f"<section><h2>Final metrics</h2><div class='cards'>{body}</div>{extra}</section>"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _architecture_section(project: Project) -> str:
    network = project.network
    analysis = analyze(network)
    try:
        order = network.topological_order()
    except ValueError:
        order = list(network.nodes)
    rows = []
    for node_id in order:
        node, layer = network.node(node_id), analysis.layers.get(node_id)
        spec = CATALOG.get(node.type)
        detail = spec.describe(node.params) if spec else ""
        shape = "?" if layer is None or layer.output_shape is None else dims_text(layer.output_shape)
        field = "—" if layer is None or layer.receptive_field is None else dims_text(layer.receptive_field)
        params = 0 if layer is None else layer.params
        rows.append(f"<tr class='layer'><td><code>{html.escape(node_id)}</code></td><td>{html.escape(node.type)}"
                    f"</td><td>{html.escape(detail)}</td><td>{shape}</td><td class='num'>{params:,}</td>"
                    f"<td>{field}</td></tr>")
    totals = (f"<tr class='total'><td colspan='4'>Total ({len(order)} layers; {analysis.trainable_params:,} "
              f"trainable, {analysis.non_trainable_params:,} not trainable)</td>"
              f"<td class='num'>{analysis.total_params:,}</td><td></td></tr>")
    return ("<section class='long'><h2>Architecture</h2><table class='arch'><thead><tr><th>Layer</th><th>Type</th>"
            "<th>Settings</th><th>Output shape</th><th>Parameters</th><th>Receptive field</th></tr></thead>"
            f"<tbody>{''.join(rows)}{totals}</tbody></table></section>")


def _settings_section(project: Project, info: dict) -> str:
    s = info.get("settings") or project.training
    data = info.get("dataset") or {}
    loss = (info.get("loss") or {}).get("name") or s.get("loss")
    schedule = s.get("schedule") or "constant"
    if s.get("schedule_params"):
        schedule += " (" + ", ".join(f"{k} {v}" for k, v in s["schedule_params"].items()) + ")"
    splits = ", ".join(f"{data[k]:,} {label}" for k, label in (("num_train", "training"),
                       ("num_validation", "validation"), ("num_test", "test")) if data.get(k) is not None)
    versions = info.get("versions") or {}
    rows = [("Dataset", f"{data.get('name') or project.dataset.get('name')}" + (f" ({splits})" if splits else "")),
            ("Optimizer", f"{s.get('optimizer')}, learning rate {s.get('learning_rate')}"),
            ("Batch size", s.get("batch_size")), ("Epochs planned", s.get("epochs")),
            ("Validation split", s.get("validation_split")), ("Seed", s.get("seed")),
            ("Loss", loss), ("Learning-rate schedule", schedule),
            ("Early stopping", f"patience {s['early_stopping']}" if s.get("early_stopping") else "off"),
            ("Normalization", s.get("normalization")),
            ("Started / finished", f"{info.get('started', '—')} / {info.get('finished', '—')}".replace("T", " ")),
            ("Software", ", ".join(f"{k} {v}" for k, v in versions.items() if k != "platform") or "—")]
    body = "".join(f"<div class='key'>{html.escape(k)}</div><div>{html.escape(str(v if v is not None else '—'))}</div>"
                   for k, v in rows)
    return f"<section class='long'><h2>Settings</h2><div class='settings'>{body}</div></section>"


# -- charts ----------------------------------------------------------------------------------------

def _curves(metrics: list[dict]) -> str:
    if not metrics:
        return "<p class='note'>No epoch finished, so there are no curves.</p>"
    epochs = [int(row["epoch"]) for row in metrics]
    charts = []
    for key, title in (("loss", "Loss"), ("accuracy", "Accuracy")):
        series = {"training": [row.get(key) for row in metrics], "validation": [row.get(f"val_{key}")
                                                                                for row in metrics]}
        charts.append(line_chart_svg(title, epochs, series, unit_range=key == "accuracy"))
    return "<div class='pair'>" + "".join(f"<div>{c}</div>" for c in charts) + "</div>"


# -- sample predictions --------------------------------------------------------------------------

def _samples_html(evaluation: _Evaluation, picks: list[int]) -> str:
    names = evaluation.class_names
    figures = []
    for index in picks:
        probabilities = evaluation.probabilities[index]
        predicted, true = int(np.argmax(probabilities)), int(evaluation.labels[index])
        verdict = "right" if predicted == true else "wrong"
        caption = (f"<b>{html.escape(names[predicted])}</b> {100 * float(probabilities[predicted]):.0f}%"
                   f"<br><span>true {html.escape(names[true])}</span>")
        alt = f"predicted {names[predicted]}, true {names[true]}"
        figures.append(f"<figure class='sample {verdict}'><img src='data:image/png;base64,"
                       f"{thumbnail_png(evaluation.images[index])}' width='{THUMBNAIL_SIDE}' "
                       f"height='{THUMBNAIL_SIDE}' alt='{html.escape(alt)}'><figcaption>{caption}"
                       "</figcaption></figure>")
    right = sum(1 for i in picks if int(np.argmax(evaluation.probabilities[i])) == int(evaluation.labels[i]))
    return (f"<p class='note'>{len(picks)} random {html.escape(evaluation.split)} images: predicted class "
            f"and its probability, then the true class; {right} of {len(picks)} right (red frame: wrong).</p>"
            f"<div class='samples'>{''.join(figures)}</div>")


def thumbnail_png(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> str:
    """A network input (H, W, C) as a base64 PNG about `side` pixels wide, sharp pixels kept."""
    from PIL import Image

    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] not in (1, 3):
        array = array[..., :1]
    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    if not (low >= 0.0 and high <= 1.0):  # standardized or raw values: stretch to the visible range
        array = (array - low) / (high - low) if high > low else np.zeros_like(array)
    pixels = (np.nan_to_num(array) * 255).round().clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0], "L") if pixels.shape[-1] == 1 else Image.fromarray(pixels, "RGB")
    scale = max(1, round(side / max(picture.size)))
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_CSS = """
:root { color-scheme: light; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1f23;
       background: #ffffff; max-width: 1040px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 24px; margin: 0; }
h2 { font-size: 15px; margin: 18px 0 8px; border-bottom: 1px solid #dfe2e7; padding-bottom: 3px; }
.sub, .note, footer { color: #5f656e; }
.note { margin: 4px 0 8px; }
section, .pair > div { break-inside: avoid; page-break-inside: avoid; }
section.long { break-inside: auto; page-break-inside: auto; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.pair > div { flex: 1 1 420px; min-width: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #dfe2e7; border-radius: 6px; padding: 6px 10px; min-width: 120px; }
.card span { display: block; color: #5f656e; font-size: 11px; }
.card b { font-size: 17px; }
svg text { font-family: system-ui, sans-serif; fill: #1d1f23; }
svg .title { font-size: 13px; font-weight: 600; }
svg .tick, svg .legend { font-size: 10.5px; fill: #5f656e; }
svg .axis { font-size: 11px; fill: #5f656e; }
svg .count { font-size: 10.5px; }
svg text.on-dark { fill: #ffffff; }
svg .grid { stroke: #eceef1; }
svg .frame { fill: none; stroke: #b9bec6; }
svg.chart, svg.confusion { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
thead th { background: #f3f4f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 1px solid #b9bec6; }
.settings { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 3px 14px; }
.settings .key { color: #5f656e; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.95em; }
.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(78px, 1fr)); gap: 6px; }
figure.sample { margin: 0; text-align: center; font-size: 11px; border: 2px solid transparent;
                border-radius: 4px; padding: 2px; }
figure.sample.wrong { border-color: #d93636; }
figure.sample img { image-rendering: pixelated; display: block; margin: 0 auto 2px; background: #000; }
figure.sample span { color: #5f656e; }
footer { margin-top: 20px; font-size: 11px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; padding: 0; max-width: none; font-size: 9.5px; }
  h1 { font-size: 18px; } h2 { font-size: 12px; margin: 8px 0 4px; }
  .pair { gap: 12px; flex-wrap: nowrap; } .pair > div { flex: 1 1 50%; }
  .cards { gap: 4px; } .card { padding: 1px 6px; min-width: 0; } .card b { font-size: 12px; }
  .card span { font-size: 8.5px; }
  th, td { padding: 1px 6px; }
  .samples { grid-template-columns: repeat(auto-fill, minmax(50px, 1fr)); gap: 2px; }
  figure.sample { font-size: 8.5px; padding: 1px; } figure.sample img { width: 36px; height: 36px; }
  svg.chart { max-height: 130px; } svg.confusion { max-height: 215px; }
  footer { margin-top: 8px; }
}
"""
