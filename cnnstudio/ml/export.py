"""Taking a model away: Keras, TensorFlow SavedModel, TFLite (LiteRT) and ONNX files.

Every export is written beside its destination, loaded back in its own runtime
(Keras, TensorFlow, the LiteRT interpreter, onnxruntime) and compared with the Keras
model on the same inputs; only then is it moved into place. A failed export leaves
no partial file and keeps whatever was at the destination before.

Float32 exports must agree within 1e-5. Quantized TFLite exports (`quantize="float16"`
or `"dynamic"`, i.e. int8 weights) trade accuracy for size; they are checked with
`QUANTIZED_TOLERANCE` (on outputs that are probabilities, at most 0.05 apart).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..core.errors import UserError
from .quiet import stderr_silenced

FORMATS = ("keras", "savedmodel", "tflite", "onnx")
QUANTIZATIONS = (None, "float16", "dynamic")
TOLERANCE = 1e-5
QUANTIZED_TOLERANCE = 0.05
SUFFIXES = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx", "savedmodel": ""}


@dataclass(frozen=True)
class ExportResult:
    """What was written and how closely it matches the Keras model."""

    path: Path
    format: str
    size_bytes: int
    max_abs_diff: float
    tolerance: float
    quantization: str | None = None
    float32_size_bytes: int | None = None  # for quantized TFLite: the size without quantization

    def describe(self) -> str:
        size = f"{self.size_bytes / 1024:,.1f} KiB"
        if self.float32_size_bytes:
            size += f" ({self.quantization} quantized; {self.float32_size_bytes / 1024:,.1f} KiB unquantized)"
        return (f"wrote {self.format} model to {self.path} ({size}); predictions match the Keras model "
                f"within {self.max_abs_diff:.2g} (allowed {self.tolerance:g})")


def load_keras_model(path: str | Path) -> keras.Model:
    """A .keras (or .h5) file loaded safely (no arbitrary code); UserError if unreadable."""
    try:
        return keras.models.load_model(path, safe_mode=True)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"cannot load the model {path}: {exc}") from None


def sample_inputs(model: keras.Model, n: int = 8, seed: int = 0) -> np.ndarray:
    """Random inputs in [0, 1] of the model's input shape, for checking an export."""
    shape = tuple(model.inputs[0].shape[1:])
    if any(s is None for s in shape):
        raise UserError(f"the model's input shape {shape} is not fixed; exports need a fixed image size")
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def export_model(model: keras.Model, fmt: str, out: str | Path, *, quantize: str | None = None,
                 inputs: np.ndarray | None = None) -> ExportResult:
    """Write `model` as `fmt` to `out`, verified in its own runtime (see the module docstring)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format '{fmt}'; use one of {', '.join(FORMATS)}")
    if quantize not in QUANTIZATIONS:
        raise UserError(f"unknown quantization '{quantize}'; use float16 or dynamic")
    if quantize and fmt != "tflite":
        raise UserError("quantization is only available for the tflite format")
    out = Path(out)
    if fmt == "keras" and out.suffix != ".keras":
        raise UserError(f"{out}: a Keras model file must end in .keras; try --out {out.with_suffix('.keras')}")
    if not out.parent.exists():
        raise UserError(f"{out.parent}: no such folder; create it or choose another --out")
    x = sample_inputs(model) if inputs is None else np.asarray(inputs, np.float32)
    expected = np.asarray(model.predict(x, verbose=0, batch_size=256))
    workdir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp = workdir / f"model{SUFFIXES[fmt]}" if fmt != "savedmodel" else workdir / "model"
        _write(model, fmt, tmp, quantize)
        got = predict_file(fmt, tmp, x)
        diff = float(np.max(np.abs(got - expected))) if expected.size else 0.0
        tolerance = QUANTIZED_TOLERANCE if quantize else TOLERANCE
        if not diff <= tolerance:
            raise UserError(f"the exported {fmt} model does not give the same predictions as the Keras model "
                            f"(largest difference {diff:.3g}, allowed {tolerance:g}); nothing was written")
        float_size = None
        if quantize:
            plain = workdir / "plain.tflite"
            _write(model, fmt, plain, None)
            float_size = plain.stat().st_size
        size = _size(tmp)
        _move_into_place(tmp, out)
    except OSError as exc:
        raise UserError(f"could not write {out}: {exc.strerror or exc}; nothing was written") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return ExportResult(out, fmt, size, diff, tolerance, quantize, float_size)


def _write(model: keras.Model, fmt: str, path: Path, quantize: str | None) -> None:
    try:
        if fmt == "keras":
            model.save(path)
        elif fmt == "savedmodel":
            model.export(str(path), format="tf_saved_model", verbose=False)
        elif fmt == "onnx":
            with warnings.catch_warnings():  # tf2onnx probes NumPy for names it no longer has
                warnings.simplefilter("ignore", FutureWarning)
                model.export(str(path), format="onnx", verbose=False)
        else:
            model.export(str(path), format="litert", verbose=False, **_tflite_options(quantize))
    except OSError:
        raise
    except Exception as exc:  # converters raise many kinds; say which format failed and why
        raise UserError(f"the model cannot be exported as {fmt}: {type(exc).__name__}: {exc}") from None


def _tflite_options(quantize: str | None) -> dict:
    import tensorflow as tf

    if quantize is None:
        return {}
    options = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    return options


def predict_file(fmt: str, path: str | Path, x: np.ndarray) -> np.ndarray:
    """Predictions of an exported file in its own runtime (the checks and tests use this)."""
    path = str(path)
    if fmt == "keras":
        return np.asarray(load_keras_model(path).predict(x, verbose=0, batch_size=256))
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(path)  # keep a reference: its variables die with it
        return np.asarray(loaded.serve(tf.constant(x)))
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])
    if fmt == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        with stderr_silenced():  # "Created TensorFlow Lite XNNPACK delegate" is printed from C++
            interpreter = Interpreter(model_path=path)
            detail = interpreter.get_input_details()[0]
            interpreter.resize_tensor_input(detail["index"], list(x.shape))
            interpreter.allocate_tensors()
            interpreter.set_tensor(detail["index"], x.astype(detail["dtype"]))
            interpreter.invoke()
            return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    raise UserError(f"unknown export format '{fmt}'")


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename the verified export over `out` (a folder for SavedModel: the old one goes last)."""
    if tmp.is_dir():
        old = None
        if out.exists():
            if not out.is_dir():
                raise UserError(f"{out} is a file; a SavedModel is a folder, choose another --out")
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name for --out")
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, out)
