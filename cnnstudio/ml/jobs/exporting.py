"""The export job: writes each file of an `ExportPlan` and checks it.

Every file is written beside its destination, checked, and only then moved into place
(`core.files.atomic_write_with`): a failed export leaves no partial file and keeps what
was there before. Progress goes to the window as job events: ("started", ExportItem)
and ("finished", ItemResult).
"""

from __future__ import annotations

import ast
import csv
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.core.files import atomic_write_text
from cnnstudio.core.project import Project
from cnnstudio.crashlog import internal_error_message

from ..builder import untrained_model
from ..export_paths import MODEL_FORMATS
from ..workspace import Workspace
from .protocol import Progress
from .requests import PLACE, ExportItem, ExportPlan
from .results import ItemResult, human_size
from .writing import write_checked

CANCELLED = "not written: the export was cancelled"


def export(workspace: Workspace, request: ExportPlan, progress: Progress) -> list[ItemResult]:
    """Write every item of the plan in order; after a cancel, the rest are reported as not written."""
    plan = request
    results: list[ItemResult] = []
    models: dict[str, Any] = {}
    for item in plan.items:
        if progress.cancelled:
            result = ItemResult(item.key, item.path, False, detail=CANCELLED)
        else:
            progress.event("started", item)
            result = export_item(workspace, plan, item, models)
        progress.event("finished", result)
        results.append(result)
    return results


def export_item(workspace: Workspace, plan: ExportPlan, item: ExportItem, models: dict[str, Any]) -> ItemResult:
    """One file, checked; failures come back as a result with the reason, never as an exception."""
    try:
        if item.key in MODEL_FORMATS:
            return _model_file(plan, item, models)
        if item.key == "python":
            return write_checked(item, lambda tmp: _write_script(plan.project, tmp),
                                 lambda tmp: _check_script(tmp, plan, models))
        if item.key == "metrics":
            source = _run_dir(plan) / "metrics.csv"
            if not source.is_file():
                raise UserError("this run has no metrics.csv yet: no epoch has finished")
            return write_checked(item, lambda tmp: shutil.copyfile(source, tmp),
                                 lambda tmp: _check_metrics(source, tmp))
        if item.key == "report":
            return _report(workspace, plan, item, models)
        raise UserError(f"unknown export format '{item.key}'")
    except UserError as exc:
        return ItemResult(item.key, item.path, False, detail=str(exc))
    except Exception as exc:  # a fault of ours: say so, keep the details in the log
        return ItemResult(item.key, item.path, False, detail=internal_error_message(exc))


def _run_dir(plan: ExportPlan) -> Path:
    if plan.run_dir is None:
        raise UserError("only a trained run has metrics and a report; choose a run as the source")
    return plan.run_dir


# -- models ------------------------------------------------------------------------------------

def source_model(plan: ExportPlan, models: dict[str, Any]):
    """The run's trained model, or the untrained network with the project's seed (loaded once)."""
    if "model" not in models:
        try:
            models["model"] = _load_source_model(plan)
        except UserError as exc:
            models["model"] = exc
    model = models["model"]
    if isinstance(model, UserError):
        raise UserError(str(model))
    return model


def _load_source_model(plan: ExportPlan):
    if plan.run_dir is None:
        _check_buildable(plan.project)
        return untrained_model(plan.project)
    from cnnstudio.ml.export import load_keras_model

    for candidate in (plan.run_dir / "model.keras", plan.run_dir / "checkpoints" / "last.keras"):
        if candidate.is_file():
            return load_keras_model(candidate)
    raise UserError(f"the run {plan.run_dir.name} holds no trained model yet (no model.keras)")


def _check_buildable(project: Project) -> None:
    """UserError before anything is built: a network with errors, or too large to build and convert here."""
    from cnnstudio.core.analysis import analyze
    from cnnstudio.ml.export_paths import check_export_memory

    analysis = analyze(project.network)
    if analysis.errors:
        first = analysis.errors[0]
        where = f"layer '{first.node}': " if first.node else ""
        raise UserError(f"the network has errors, so no model can be built ({where}{first.message})")
    check_export_memory(analysis.total_params, building=True)


def _model_file(plan: ExportPlan, item: ExportItem, models: dict[str, Any]) -> ItemResult:
    from cnnstudio.ml.export import export_model

    model = source_model(plan, models)
    tolerance = None if item.quantize else plan.tolerance  # quantized files keep their own allowance
    result = export_model(model, item.key, item.path, quantize=item.quantize, tolerance=tolerance,
                          source=plan.run_dir, option=PLACE)
    detail = result.check_text()
    if result.quantization:
        kind = "float16" if result.quantization == "float16" else "dynamic-range int8"
        detail = (f"{human_size(result.float32_size_bytes or 0)} unquantized → {human_size(result.size_bytes)} "
                  f"{kind}; predictions within {result.difference:.2g} of the output's scale of the Keras "
                  f"model's (allowed {result.tolerance:g})")
    return ItemResult(item.key, result.path, True, result.size_bytes, detail, result.float32_size_bytes)


# -- the Python script ---------------------------------------------------------------------------

def _write_script(project: Project, tmp: Path) -> None:
    from cnnstudio.ml.codegen import generate_script

    script = generate_script(project.network, name=project.name, dataset=project.dataset,
                             training=project.training)
    atomic_write_text(tmp, script)


def _check_script(tmp: Path, plan: ExportPlan, models: dict[str, Any]) -> str:
    """The script parses, and its build_model() builds the exported network: same parameter count,
    and — given the source model's weights — the same predictions."""
    import numpy as np

    from cnnstudio.core.analysis import analyze

    text = tmp.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=tmp.name)
    except SyntaxError as exc:
        raise UserError(f"the generated script is not valid Python (line {exc.lineno}: {exc.msg}); "
                        "nothing was written") from None
    lines = text.count("\n") + 1
    function = safe_build_model(tree)
    if function is None:
        return f"valid Python, {lines} lines"
    built = function()
    expected = analyze(plan.project.network).total_params
    if built.count_params() != expected:
        raise UserError(f"the script builds a model of {built.count_params():,} parameters instead of "
                        f"{expected:,}; nothing was written")
    try:
        model = source_model(plan, models)
    except UserError:
        return f"{lines} lines; its build_model() builds the network ({expected:,} parameters)"
    from cnnstudio.ml.export import sample_inputs

    built.set_weights(model.get_weights())
    x = sample_inputs(model, n=4)
    x = x[0] if len(x) == 1 else x

    def outputs(m: Any) -> list:
        got = m.predict(x, verbose=0)
        return list(got) if isinstance(got, (list, tuple)) else [got]

    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(outputs(built), outputs(model)))
    if not diff <= 1e-5:
        raise UserError(f"the model the script builds predicts differently (by {diff:.2g}); nothing was written")
    return (f"{lines} lines; its build_model() builds the same network ({expected:,} parameters; "
            f"with these weights, predictions within {diff:.2g})")


def safe_build_model(tree: ast.Module) -> Callable[[], Any] | None:
    """The script's build_model(), compiled on its own — only when it does nothing but call Keras
    constructors on literal values (so checking a script never runs anything a project file could smuggle
    in); otherwise None."""
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build_model"), None)
    if function is None or function.args.args or function.decorator_list:
        return None
    for index, statement in enumerate(function.body):
        docstring = index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        assignment = (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                      and isinstance(statement.targets[0], ast.Name) and _keras_call(statement.value))
        returned = isinstance(statement, ast.Return) and isinstance(statement.value, ast.Name)
        if not (docstring or assignment or returned):
            return None
    module = ast.Module(body=[ast.Import([ast.alias("keras")]),
                              ast.ImportFrom("keras", [ast.alias("layers")], 0), function], type_ignores=[])
    namespace: dict[str, Any] = {}
    exec(compile(ast.fix_missing_locations(module), "<build_model>", "exec"), namespace)  # noqa: S102
    return namespace["build_model"]


def _keras_call(node: ast.AST) -> bool:
    """`keras.X(...)`, `layers.X(...)` or `layers.X(...)(inputs)` with literal or variable arguments."""
    if not isinstance(node, ast.Call):
        return False
    callee_ok = _keras_name(node.func) or (isinstance(node.func, ast.Call) and _keras_call(node.func))
    return callee_ok and all(_literal(a) for a in node.args) and all(
        k.arg is not None and _literal(k.value) for k in node.keywords)


def _keras_name(node: ast.AST) -> bool:
    """A layer, Input, Model, regularizer or initializer constructor: nothing that reads or writes files."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or any(p.startswith("_") for p in parts):
        return False
    path = [node.id, *parts]
    if path[0] == "layers":
        return len(path) == 2
    return path[0] == "keras" and (path[1:] in (["Input"], ["Model"]) or (
        len(path) == 3 and path[1] in ("layers", "regularizers", "initializers", "constraints")))


def _literal(node: ast.AST) -> bool:
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(isinstance(k, ast.Constant) for k in node.keys) and all(_literal(v) for v in node.values)
    return _keras_call(node)  # a regularizer or initializer, e.g. keras.regularizers.L2(0.01)


# -- metrics and the report ----------------------------------------------------------------------

def _check_metrics(source: Path, tmp: Path) -> str:
    def rows(path: Path) -> list[list[str]]:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    written, original = rows(tmp), rows(source)
    if written != original:
        raise UserError("the written metrics differ from the run's metrics.csv; nothing was written")
    epochs = max(len(written) - 1, 0)
    columns = ", ".join(written[0]) if written else "—"
    return f"{epochs} epoch{'s' * (epochs != 1)}, columns {columns}; reads back the same"


def _report(workspace: Workspace, plan: ExportPlan, item: ExportItem, models: dict[str, Any]) -> ItemResult:
    from cnnstudio.ml.report import write_report

    run_dir = _run_dir(plan)
    try:
        dataset = workspace.dataset(plan.project)
    except UserError:
        dataset = None  # the report says why it has no evaluation
    try:
        model = source_model(plan, models)
    except UserError:
        model = None
    summaries: list[Any] = []

    def write(tmp: Path) -> None:
        summaries.append(write_report(run_dir, tmp, dataset=dataset, model=model))

    return write_checked(item, write, lambda tmp: _check_report(tmp, summaries[0]))


def _check_report(tmp: Path, summary: Any) -> str:
    from html.parser import HTMLParser

    class Counter(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.cells = self.images = self.charts = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            classes = dict(attrs).get("class") or ""
            self.cells += tag == "rect" and classes == "cell"
            self.images += tag == "img"
            self.charts += tag == "svg" and "chart" in classes

    counter = Counter()
    counter.feed(tmp.read_text(encoding="utf-8"))
    counter.close()
    if counter.images != summary.samples:
        raise UserError("the report did not come out whole (its sample images are missing); nothing was written")
    if summary.split is None:
        return f"written without an evaluation: {summary.note}"
    return (f"{summary.evaluated:,} {summary.split} images evaluated (accuracy {100 * summary.accuracy:.1f}%), "
            f"{summary.samples} sample predictions, {counter.charts} charts; opens in any browser")
