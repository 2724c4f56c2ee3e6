"""Taking a model away: Keras, TensorFlow SavedModel, TFLite (LiteRT) and ONNX files.

Every export is written beside its destination (through the one atomic writer,
`core/files.py`), loaded back in its own runtime (Keras, TensorFlow, the LiteRT
interpreter, onnxruntime) and compared with the Keras model on the same inputs; only
then is it moved into place. A failed export leaves no partial file and keeps whatever
was at the destination before. Models with several inputs and outputs are compared
output by output.

Predictions are compared relative to each output's scale (its largest value): float32
runtimes disagree by about 1e-4 of it on deep networks (ResNet50, InceptionV3), so a
float32 export may differ by `TOLERANCE` of the scale; quantized TFLite exports (float16
or int8 weights) by `QUANTIZED_TOLERANCE`. The caller may accept a larger difference.

An export never removes what CNN Studio did not write: an existing SavedModel folder is
replaced only when CNN Studio wrote it (it holds `MARKER` and nothing but SavedModel
parts); and nothing is written into, or over a folder above, the export's own source.
SavedModel, TFLite and ONNX files hold the inference graph: augmentation layers
(RandomFlip, ...), which do nothing outside training, are left out.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..core.errors import UserError
from ..core.files import atomic_write_with, write_error
from .export_onnx import write_onnx
from .export_paths import (  # noqa: F401 - part of this module's API
    MARKER,
    MODEL_FORMATS,
    SUFFIXES,
    check_destination,
    check_export_memory,
    written_by_us,
)
from .model_file import check_model_file, first_line
from .quiet import stderr_silenced

FORMATS = MODEL_FORMATS
QUANTIZATIONS = (None, "float16", "dynamic")
TOLERANCE = 1e-3  # largest difference allowed, as a fraction of the output's scale (float32 exports)
QUANTIZED_TOLERANCE = 0.05  # the same for quantized TFLite exports
SCALE_FLOOR = 1e-6  # outputs smaller than this everywhere are compared as if their scale were this


@dataclass(frozen=True)
class ExportResult:
    """What was written and how closely it matches the Keras model."""

    path: Path
    format: str
    size_bytes: int
    max_abs_diff: float  # largest absolute difference over every output
    tolerance: float  # allowed difference, relative to the output's scale
    quantization: str | None = None
    float32_size_bytes: int | None = None  # for quantized TFLite: the size without quantization
    difference: float = 0.0  # largest difference relative to the output's scale
    outputs: int = 1
    one_per_call: bool = False  # a TFLite file converted for one picture per call (see `_write_tflite`)

    def check_text(self) -> str:
        """How the predictions compare, in one phrase."""
        if self.max_abs_diff == 0:
            return "predictions identical to the Keras model's"
        where = f" (over {self.outputs} outputs)" if self.outputs > 1 else ""
        return (f"predictions match the Keras model within {self.difference:.2g} of the output's scale"
                f"{where} ({self.max_abs_diff:.2g} absolute; allowed {self.tolerance:g})")

    def describe(self) -> str:
        size = f"{self.size_bytes / 1024:,.1f} KiB"
        if self.float32_size_bytes:
            size += f" ({self.quantization} quantized; {self.float32_size_bytes / 1024:,.1f} KiB unquantized)"
        single = "; it takes one picture per call (with the batch size left open the converter needed TensorFlow " \
                 "operations)" if self.one_per_call else ""
        return f"wrote {self.format} model to {self.path} ({size}); {self.check_text()}{single}"


class PredictionMismatch(UserError):
    """The exported file predicts differently from the Keras model by more than allowed."""

    def __init__(self, fmt: str, difference: float, tolerance: float, absolute: float,
                 keras_itself: float | None = None) -> None:
        self.difference, self.tolerance, self.absolute = difference, tolerance, absolute
        suggestion = 10 ** np.ceil(np.log10(max(difference, 1e-12)) + 1e-9)
        unstable = "" if keras_itself is None else (
            f" (Keras itself gives predictions {keras_itself:.3g} of the output's scale apart for the same inputs run "
            "one at a time: the network amplifies float32 rounding, as untrained deep networks can, so no export "
            "can match it more closely)")
        super().__init__(
            f"the exported {fmt} model does not give the same predictions as the Keras model (largest difference "
            f"{difference:.3g} of the output's scale, {absolute:.3g} absolute; allowed {tolerance:g}){unstable}; "
            f"nothing was written. If that difference is acceptable, allow it with a tolerance of {suggestion:g}")


def load_keras_model(path: str | Path) -> keras.Model:
    """A .keras (or .h5) file loaded safely (no arbitrary code); UserError in one line if unreadable."""
    info = check_model_file(path)
    try:
        with deep_graphs(info.layers):
            return keras.models.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for a file it cannot rebuild
        raise UserError(f"cannot load the model {path}: {first_line(exc)}") from None


def sample_inputs(model: keras.Model, n: int = 8, seed: int = 0) -> list[np.ndarray]:
    """Random inputs, one array per model input, for checking an export: in [0, 1], or pixel values from
    0 to 255 for an input the model rescales itself (see `takes_pixels`)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if any(s is None for s in shape):
            raise UserError(f"the model's input '{_input_name(tensor)}' has the shape {shape}, which is not fixed; "
                            "exports need a fixed size for every input")
        dtype = np.dtype(getattr(tensor, "dtype", "float32") or "float32")
        if np.issubdtype(dtype, np.integer):
            arrays.append(rng.integers(0, 2, (n, *shape)).astype(dtype))
        else:
            arrays.append(rng.random((n, *shape), dtype=np.float32) * (255 if takes_pixels(model, tensor) else 1))
    return arrays


def takes_pixels(model: keras.Model, tensor) -> bool:
    """Whether the model's first step on `tensor` rescales pixel values 0-255 itself (a Rescaling by 1/255,
    1/127.5 or 1/128, or a Normalization by pixel statistics), as EfficientNet, ConvNeXt and MobileNetV3 do.
    An untrained deep network fed values 1/255 of what it expects can be chaotic: one rounding apart
    in float32 changes its output entirely, which no export check can pass."""
    for layer in model.layers:
        nodes = getattr(layer, "_inbound_nodes", None) or []  # a nested model's call, not its inner graph
        if not any(any(t is tensor for t in node.input_tensors) for node in nodes):
            continue
        if isinstance(layer, keras.Model) and len(layer.inputs) == 1:  # a backbone: its own first step
            return takes_pixels(layer, layer.inputs[0])
        if isinstance(layer, keras.layers.Rescaling):
            return 0 < float(np.max(np.abs(layer.scale))) <= 0.01
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is not None:
            return float(np.max(np.abs(layer.input_mean))) > 1
    return False


@contextlib.contextmanager
def deep_graphs(layers: int) -> Iterator[None]:
    """Let Keras walk a chain of `layers` layers: it follows a network's graph recursively, one call per
    layer, and would stop at Python's usual limit of 1,000 calls (a 3,000-layer chain)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 2_000 + 10 * layers))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def inference_model(model: keras.Model) -> keras.Model:
    """`model` without the augmentation layers that do nothing outside training (RandomFlip, ...), sharing
    its weights; `model` itself when it has none. Converters cannot handle their random-number ops."""
    if not any(_augmentation(layer) for layer in model.layers):
        return model

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        return keras.layers.Identity(name=layer.name) if _augmentation(layer) else layer

    return keras.models.clone_model(model, clone_function=clone)


def _augmentation(layer: keras.layers.Layer) -> bool:
    """Random* image layers pass images through unchanged at inference (RandomCrop crops: not one of them)."""
    name = type(layer).__name__
    return name.startswith("Random") and name != "RandomCrop"


def export_model(model: keras.Model, fmt: str, out: str | Path, *, quantize: str | None = None,
                 inputs: np.ndarray | Sequence[np.ndarray] | None = None, tolerance: float | None = None,
                 source: str | Path | None = None, option: str = "--out") -> ExportResult:
    """Write `model` as `fmt` to `out`, verified in its own runtime (see the module docstring).

    `inputs` are the arrays to compare on (one per model input; random ones by default); `tolerance`
    the largest difference accepted, relative to each output's scale; `source` the project file or run
    folder the model comes from, which the export never writes into or over; `option` what the user
    changes to choose another place (see `check_destination`).
    """
    if fmt not in FORMATS:
        raise UserError(f"unknown export format '{fmt}'; use one of {', '.join(FORMATS)}")
    if quantize not in QUANTIZATIONS:
        raise UserError(f"unknown quantization '{quantize}'; use float16 or dynamic")
    if quantize and fmt != "tflite":
        raise UserError("quantization is only available for the tflite format")
    if tolerance is not None and not (isinstance(tolerance, (int, float)) and 0 <= tolerance < float("inf")):
        raise UserError(f"the tolerance must be a number from 0, such as 0.001, not {tolerance!r}")
    out = check_destination(fmt, out, source=source, option=option)
    check_export_memory(model.count_params(), fmt=fmt)
    allowed = float(tolerance) if tolerance is not None else QUANTIZED_TOLERANCE if quantize else TOLERANCE
    x = sample_inputs(model) if inputs is None else _as_list(inputs)
    if len(x) != len(model.inputs):
        raise UserError(f"the model has {len(model.inputs)} inputs but {len(x)} arrays were given to check it")
    x = [np.asarray(a, dtype=np.dtype(getattr(t, "dtype", "float32") or "float32")) for a, t in zip(x, model.inputs)]
    checked: dict[str, float] = {}

    names = [_input_name(t) for t in model.inputs]
    feed = x[0] if len(x) == 1 else dict(zip(names, x)) if len(set(names)) == len(names) else x

    def write_and_check(tmp: Path) -> None:
        checked["one_per_call"] = _write(graph, fmt, tmp, quantize)
        got = _as_list(predict_file(fmt, tmp, feed))
        checked.update(compare(expected, got, fmt, allowed))
        if fmt == "savedmodel":
            (tmp / MARKER).write_text(json.dumps({"format": "savedmodel", "written_by": "CNN Studio",
                                                  "keras": keras.__version__}), encoding="utf-8")

    try:
        with deep_graphs(len(model.layers)):
            expected = _as_list(model.predict(x[0] if len(x) == 1 else x, verbose=0, batch_size=256))
            graph = model if fmt == "keras" else inference_model(model)
            if graph is not model:
                graph.predict(x[0] if len(x) == 1 else x, verbose=0)  # exporters want a model that was called
            try:
                atomic_write_with(out, write_and_check, suffix=".tmp" + SUFFIXES[fmt], folder=fmt == "savedmodel")
            except PredictionMismatch as exc:
                raise _with_keras_itself(exc, graph, x, expected, fmt) from None
            float_size = _unquantized_size(graph) if quantize else None
    except OSError as exc:
        raise write_error(exc, out, f"the {fmt} export") from None
    return ExportResult(out, fmt, _size(out), checked["absolute"], allowed, quantize, float_size,
                        checked["relative"], len(expected), bool(checked.get("one_per_call")))


def _with_keras_itself(mismatch: PredictionMismatch, model: keras.Model, x: list[np.ndarray],
                       expected: list[np.ndarray], fmt: str) -> PredictionMismatch:
    """The mismatch, saying so when Keras disagrees with itself by more than allowed on the same inputs run
    one at a time (a chaotic untrained network: EfficientNetV2M's values grow to 6e5)."""
    again = _as_list(model.predict(x[0] if len(x) == 1 else x, verbose=0, batch_size=1))
    try:
        compare(expected, again, fmt, mismatch.tolerance)
        return mismatch
    except PredictionMismatch as itself:
        return PredictionMismatch(fmt, mismatch.difference, mismatch.tolerance, mismatch.absolute, itself.difference)


def compare(expected: Sequence[np.ndarray], got: Sequence[np.ndarray], fmt: str, tolerance: float) -> dict[str, float]:
    """The largest difference, absolute and relative to each output's scale; PredictionMismatch above
    `tolerance` (relative)."""
    if len(expected) != len(got) or any(np.shape(a) != np.shape(b) for a, b in zip(expected, got)):
        shapes = ", ".join(str(np.shape(a)) for a in got)
        raise UserError(f"the exported {fmt} model gives outputs of other shapes ({shapes}) than the Keras model; "
                        "nothing was written")
    absolute = relative = 0.0
    for want, have in zip(expected, got):
        want, have = np.asarray(want, np.float64), np.asarray(have, np.float64)
        if not want.size:
            continue
        diff = float(np.max(np.abs(have - want)))
        scale = max(float(np.max(np.abs(want))), SCALE_FLOOR)
        if not np.isfinite(diff):
            diff = float("inf")
        absolute, relative = max(absolute, diff), max(relative, diff / scale)
    if not relative <= tolerance:
        raise PredictionMismatch(fmt, relative, tolerance, absolute)
    return {"absolute": absolute, "relative": relative}


def _write(model: keras.Model, fmt: str, path: Path, quantize: str | None) -> bool:
    """The model as `fmt` at `path`; True when the file takes one picture per call (see `_write_tflite`)."""
    try:
        if fmt == "keras":
            model.save(path)
        elif fmt == "savedmodel":
            model.export(str(path), format="tf_saved_model", verbose=False)
        elif fmt == "onnx":
            write_onnx(model, path)
        else:
            return _write_tflite(model, path, quantize)
        return False
    except (OSError, UserError):
        raise
    except Exception as exc:  # converters raise many kinds; say which format failed and why, in one line
        raise UserError(f"the model cannot be exported as {fmt}: {type(exc).__name__}: {first_line(exc)}") from None


def _write_tflite(model: keras.Model, path: Path, quantize: str | None) -> bool:
    """The TFLite file, with TFLite's own operations only. Where the batch size is left open, the converter
    keeps some layers as TensorFlow operations (the keras.io Oxford pets U-Net: three Conv2D after its
    UpSampling2D), which TFLite runtimes cannot run; such a model is converted again for one picture per
    call, where every shape is known (then True). UserError if even then some remain."""
    with stderr_silenced():
        model.export(str(path), format="litert", verbose=False, **_tflite_options(quantize))
        if not tensorflow_operations(path):
            return False
        single = [keras.InputSpec(shape=(1, *t.shape[1:]), dtype=t.dtype) for t in model.inputs]
        model.export(str(path), format="litert", verbose=False, input_signature=single, **_tflite_options(quantize))
    left = tensorflow_operations(path)
    if left:
        names = ", ".join(f"{op} x{count}" if count > 1 else op for op, count in left.items())
        raise UserError(f"the model cannot be exported as tflite: the converter keeps TensorFlow operations that "
                        f"TFLite runtimes lack ({names}); export it as keras, savedmodel or onnx")
    return True


def tensorflow_operations(path: Path) -> dict[str, int]:
    """The TensorFlow ("Flex") operations a TFLite file uses, with their counts (none: an empty dict)."""
    import contextlib
    import io
    import re

    import tensorflow as tf

    if b"Flex" not in Path(path).read_bytes():  # each such operation is named in the file: most have none
        return {}
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path))
    found = re.findall(r"Op#\d+ Flex(\w+)\(", said.getvalue())
    return {op: found.count(op) for op in dict.fromkeys(found)}


def _unquantized_size(model: keras.Model) -> int:
    """The size the TFLite file would have without quantization (written to a scratch folder)."""
    with tempfile.TemporaryDirectory(prefix="cnnstudio-export-") as scratch:
        plain = Path(scratch) / "plain.tflite"
        _write(model, "tflite", plain, None)
        return plain.stat().st_size


def _tflite_options(quantize: str | None) -> dict:
    import tensorflow as tf

    if quantize is None:
        return {}
    options = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    return options


def predict_file(fmt: str, path: str | Path, x: np.ndarray | Sequence[np.ndarray] | dict[str, np.ndarray]
                 ) -> np.ndarray | list[np.ndarray]:
    """Predictions of an exported file in its own runtime (the checks and tests use this).

    `x` is one array; or, for a model with several inputs, a list in the model's input order or a
    dict by input name (runtimes that name their inputs are fed by name). The result is one array
    for a model with one output, else a list with one array per output, in the model's order.
    """
    names = list(x) if isinstance(x, dict) else None
    outputs = _predict_outputs(fmt, str(path), _as_list(x), names)
    return outputs[0] if len(outputs) == 1 else outputs


def _predict_outputs(fmt: str, path: str, inputs: list[np.ndarray], names: list[str] | None) -> list[np.ndarray]:
    if fmt == "keras":
        model = load_keras_model(path)
        return _as_list(model.predict(inputs[0] if len(inputs) == 1 else inputs, verbose=0, batch_size=256))
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(path)  # keep a reference: its variables die with it
        tensors = [tf.constant(a) for a in inputs]
        return [np.asarray(o) for o in _as_list(loaded.serve(tensors[0] if len(tensors) == 1 else tensors))]
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = _feed([i.name for i in session.get_inputs()], inputs, names)
        return [np.asarray(o) for o in session.run(None, feed)]
    if fmt == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        with stderr_silenced():  # "Created TensorFlow Lite XNNPACK delegate" is printed from C++
            interpreter = Interpreter(model_path=path)
            runner = interpreter.get_signature_runner()
            feed = _feed(list(runner.get_input_details()), inputs, names)
            if _one_per_call(runner):
                results = [runner(**{k: v[i:i + 1] for k, v in feed.items()}) for i in range(len(inputs[0]))]
                result = {k: np.concatenate([r[k] for r in results]) for k in results[0]}
            else:
                result = runner(**feed)
        return [np.array(result[name]) for name in sorted(result, key=_output_number)]
    raise UserError(f"unknown export format '{fmt}'")


def _one_per_call(runner) -> bool:
    return all(d["shape_signature"][:1].tolist() == [1] for d in runner.get_input_details().values())


def _feed(wanted: list[str], inputs: list[np.ndarray], names: list[str] | None) -> dict[str, np.ndarray]:
    """Inputs for a runtime that names its inputs: by name when the names match, else in order."""
    if names is not None and sorted(names) == sorted(wanted):
        return dict(zip(names, inputs))
    if len(wanted) != len(inputs):
        raise UserError(f"the exported file takes {len(wanted)} inputs, but {len(inputs)} were given")
    return dict(zip(wanted, inputs))


def _output_number(name: str) -> tuple[int, str]:
    """TFLite names its outputs output_0, output_1, ... in the model's order."""
    tail = name.rsplit("_", 1)[-1]
    return (int(tail), name) if tail.isdigit() else (1 << 30, name)


def _input_name(tensor) -> str:
    return str(getattr(tensor, "name", "input")).split(":")[0]


def _as_list(values) -> list:
    if isinstance(values, dict):
        return list(values.values())
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
