"""The building blocks of the layer catalog: parameter schemas and layer entries.

A ``Param`` describes one Keras constructor argument (its type, Keras's default,
allowed values and a one-line explanation); a ``LayerSpec`` describes one Keras
layer class and carries the rule that gives its output shape, parameter counts,
receptive-field step and the formulas shown to the user.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Parameter kinds. Each kind knows how to check and normalise a value.
INT = "int"
FLOAT = "float"
BOOL = "bool"
CHOICE = "choice"  # one of `choices` (strings, possibly None)
INTS = "ints"  # an int or a list of `rank` ints (kernel_size, strides, ...)
SHAPE = "shape"  # a list of ints (Input shape, Reshape target)
REGULARIZER = "regularizer"  # None, "l1", "l2", or {"l1": f, "l2": f}
PADDING = "padding"  # ZeroPadding2D / Cropping2D: int, [a, b] or [[t, b], [l, r]]
FACTOR = "factor"  # a float or a [low, high] pair (Random* layers)
AXIS = "axis"  # an int or a list of ints, counted with the batch axis as Keras does
FLOATS = "floats"  # a number or a list of numbers (one per channel: Normalization mean, Rescaling scale)

UNSET = object()  # marks a parameter Keras requires (it has no default)
MAX_SIZE = 2**31 - 1  # the largest size of one axis Keras and TensorFlow accept


class ParamError(ValueError):
    """A parameter value that is not allowed; the message says what would be."""


class ShapeError(ValueError):
    """A layer that cannot accept its inputs; the message gives the numbers."""


@dataclass(frozen=True)
class Param:
    """One constructor argument of a Keras layer, as the inspector shows it."""

    name: str
    kind: str
    doc: str
    default: Any = UNSET
    initial: Any = UNSET  # what a freshly added layer gets when Keras has no default
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False  # the minimum itself is not allowed (a bound Keras excludes)
    choices: tuple[Any, ...] = ()
    rank: int = 0  # length of an INTS tuple or PADDING pairs
    nullable: bool = False
    advanced: bool = False  # shown under "More" in the inspector

    @property
    def required(self) -> bool:
        return self.default is UNSET

    @property
    def starting_value(self) -> Any:
        """The value a new layer starts with (Keras's default, or a sensible initial)."""
        return self.initial if self.initial is not UNSET else self.default

    def normalize(self, value: Any) -> Any:
        """Check ``value`` and return it in one canonical form (tuples for sequences)."""
        if value is None:
            if (self.nullable and self.kind != SHAPE) or (self.default is None) or (None in self.choices):
                return None
            raise ParamError(f"'{self.name}' needs a value")
        check = _CHECKS[self.kind]
        return check(self, value)

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "" if self.minimum is None else f"{'>' if self.above_minimum else '>='} {self.minimum:g}"
        hi = "" if self.maximum is None else f"<= {self.maximum:g}"
        return " and ".join(p for p in (lo, hi) if p) or "any value"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number_text(value: float) -> str:
    """A number for a message; an integer too large for a float reads as its digit count."""
    if isinstance(value, int) and abs(value) > 10**15:
        return f"a {len(str(abs(value)))}-digit number"
    if isinstance(value, int) and abs(value) >= 10**6:
        return f"{value:,}"
    return f"{value:g}"


def _check_range(param: Param, value: float) -> None:
    if param.minimum is not None and param.above_minimum and value <= param.minimum:
        raise ParamError(f"'{param.name}' is {_number_text(value)} but must be above {param.minimum:g}")
    if param.minimum is not None and value < param.minimum:
        raise ParamError(f"'{param.name}' is {_number_text(value)} but must be >= {param.minimum:g}")
    if param.maximum is not None and value > param.maximum:
        raise ParamError(f"'{param.name}' is {_number_text(value)} but must be <= {param.maximum:g}")


def _as_float(param: Param, value: Any) -> float:
    """``value`` as a float; ParamError for an integer too large for one (10**400)."""
    try:
        return float(value)
    except OverflowError:
        raise ParamError(f"'{param.name}' is {_number_text(value)}, too large for a number here") from None


def _value_text(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut short (a huge number or list stays readable)."""
    if isinstance(value, int) and abs(value) > 10**15:
        return _number_text(value)
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_int(param: Param, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value):
        raise ParamError(f"'{param.name}' must be a whole number, not {_value_text(value)}")
    _check_range(param, value)
    return value


def _check_float(param: Param, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"'{param.name}' must be a number, not {_value_text(value)}")
    number = _as_float(param, value)
    if not math.isfinite(number):
        raise ParamError(f"'{param.name}' must be a finite number, not {value!r}")
    _check_range(param, number)
    return number


def _check_bool(param: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"'{param.name}' must be true or false, not {_value_text(value)}")
    return value


def _check_choice(param: Param, value: Any) -> Any:
    if value not in param.choices:
        shown = ", ".join(repr(c) for c in param.choices if c is not None)
        raise ParamError(f"'{param.name}' is {_value_text(value)}; choose one of {shown}")
    return value


def _check_ints(param: Param, value: Any) -> tuple[int, ...]:
    if _is_int(value) or (isinstance(value, float) and value.is_integer()):
        value = [int(value)] * param.rank
    if not isinstance(value, (list, tuple)) or len(value) != param.rank:
        raise ParamError(
            f"'{param.name}' must be a whole number or a list of {param.rank}, not {_value_text(value)}"
        )
    return tuple(_check_int(param, v) for v in value)


def _check_shape(param: Param, value: Any) -> tuple[int | None, ...]:
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ParamError(f"'{param.name}' must be a list of sizes such as [28, 28, 1], not {_value_text(value)}")
    out = []
    for v in value:
        if v is None and param.nullable:
            out.append(None)
            continue
        if not _is_int(v) or (v < 1 and not (v == -1 and param.minimum == -1)):
            raise ParamError(f"'{param.name}' must hold positive whole numbers, not {_value_text(value)}")
        if v > MAX_SIZE:
            raise ParamError(f"'{param.name}' has a size of {_number_text(v)}; sizes go up to {MAX_SIZE:,}")
        out.append(v)
    return tuple(out)


def _check_regularizer(param: Param, value: Any) -> dict[str, float]:
    if value in ("l1", "l2"):
        return {value: 0.01}
    if value == "l1_l2":
        return {"l1": 0.01, "l2": 0.01}
    if isinstance(value, Mapping) and value and set(value) <= {"l1", "l2"}:
        out = {}
        for key, factor in value.items():
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor >= 0:
                raise ParamError(f"'{param.name}' {key} factor must be a number >= 0, not {_value_text(factor)}")
            number = _as_float(param, factor)
            if not math.isfinite(number):
                raise ParamError(f"'{param.name}' {key} factor must be a finite number, not {factor!r}")
            out[key] = number
        return out
    raise ParamError(
        f"'{param.name}' must be null, \"l1\", \"l2\" or {{\"l2\": 0.001}}, not {_value_text(value)}"
    )


def _check_padding(param: Param, value: Any) -> tuple[tuple[int, int], ...]:
    """ZeroPadding2D/Cropping2D: int -> same on all sides; [a, b] -> symmetric per axis."""
    sub = Param(param.name, INT, param.doc, minimum=0)
    if _is_int(value):
        value = [value] * param.rank
    if not isinstance(value, (list, tuple)) or len(value) != param.rank:
        raise ParamError(f"'{param.name}' must be a whole number, [a, b] or [[t, b], [l, r]], not {_value_text(value)}")
    pairs = []
    for item in value:
        if _is_int(item):
            pairs.append((_check_int(sub, item),) * 2)
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((_check_int(sub, item[0]), _check_int(sub, item[1])))
        else:
            raise ParamError(f"'{param.name}' entries must be whole numbers or pairs, not {_value_text(item)}")
    return tuple(pairs)


def _check_factor(param: Param, value: Any) -> float | tuple[float, float]:
    """A number or a [low, high] pair; ``rank=2`` asks for the pair only (value_range)."""
    if param.rank == 2 and not isinstance(value, (list, tuple)):
        raise ParamError(f"'{param.name}' must be a [low, high] pair such as [0, 255], not {_value_text(value)}")
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ParamError(f"'{param.name}' must be a number or a [low, high] pair, not {_value_text(value)}")
        low, high = (_check_float(param, v) for v in value)
        if low > high:
            raise ParamError(f"'{param.name}' low {low:g} is above high {high:g}")
        return (low, high)
    return _check_float(param, value)


def _check_floats(param: Param, value: Any) -> float | tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ParamError(f"'{param.name}' must be a number or a list of numbers, not an empty list")
        return tuple(_check_float(param, v) for v in value)
    return _check_float(param, value)


def _check_axis(param: Param, value: Any) -> int | tuple[int, ...]:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]  # [-1] and -1 mean the same axis to Keras
    if isinstance(value, (list, tuple)):
        return tuple(_check_int(param, v) for v in value)
    return _check_int(param, value)


_CHECKS: dict[str, Callable[[Param, Any], Any]] = {
    INT: _check_int,
    FLOAT: _check_float,
    BOOL: _check_bool,
    CHOICE: _check_choice,
    INTS: _check_ints,
    SHAPE: _check_shape,
    REGULARIZER: _check_regularizer,
    PADDING: _check_padding,
    FACTOR: _check_factor,
    AXIS: _check_axis,
    FLOATS: _check_floats,
}


@dataclass(frozen=True)
class Step:
    """How one layer moves the receptive field along each spatial axis.

    ``kernel`` is the effective window (dilation included), ``stride`` how far one
    output step moves on the input (below 1 for upsampling).
    """

    kernel: tuple[float, ...]
    stride: tuple[float, ...]


# How a layer's output positions map back to its input's (LayerSpec.receptive_field), for core.receptive:
RECEPTIVE_FIELDS = (
    "window",  # a kernel or pool window with strides, dilation and padding (convolutions, pooling)
    "transposed",  # a transposed convolution: each input position spreads a window onto the output
    "padding",  # zeros added around: positions shift
    "cropping",  # rows and columns cut away: positions shift
    "upsampling",  # each position repeated or interpolated (UpSampling2D)
    "resizing",  # resampled to another size (Resizing)
    "mixes_axis",  # positions mixed along `axis` (LayerNormalization, Softmax)
)

IDENTITY = "identity"  # receptive field passes through unchanged
NO_FIELD = None  # after this layer positions no longer exist (Flatten, Dense, ...)


@dataclass
class Inference:
    """What a layer's rule computes from its inputs."""

    output_shape: tuple[int | None, ...]
    weights: int = 0
    biases: int = 0
    non_trainable: int = 0
    step: Step | str | None = IDENTITY
    shape_formula: list[str] = field(default_factory=list)
    param_formula: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


Rule = Callable[[dict[str, Any], list[tuple[int | None, ...]]], Inference]


@dataclass(frozen=True)
class LayerSpec:
    """One Keras layer class as CNN Studio knows it."""

    type: str
    category: str
    doc: str
    params: tuple[Param, ...]
    rule: Rule
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number
    summary: Callable[[dict[str, Any]], str] | None = None  # key parameters, e.g. "32 @ 5x5"
    # Where Keras defines the class: keras.layers for most; the applications' own layers
    # (LayerScale, CustomScaleLayer, ...) live in their application's module.
    keras_module: str = "keras.layers"
    # How the builder passes the inputs: "" = one tensor (or a list for merges); anything else names
    # the separate arguments in order (attention: query, value, key; one input attends to itself).
    call: str = ""
    # Roles other parts of the program read, so that a new layer needs only its entry:
    receptive_field: str | None = None  # how output positions map back to input positions (RECEPTIVE_FIELDS)
    convolution: bool = False  # a convolution (the first one is watched live while training)
    plain_filters: bool = False  # kernel stored (k..., in, filters): filters read straight off raw weights
    passes_values: bool = False  # outputs its input value for value (activations, dropout)
    output_units: str | None = None  # the parameter that sets how many values it outputs ("units")
    rescales: bool = False  # multiplies values by its "scale" parameter (compared with the data's normalization)
    augmentation: bool = False  # random changes to the images in training only

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @cached_property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def initial_params(self) -> dict[str, Any]:
        """Parameters a freshly added layer gets: only what Keras cannot default."""
        return {p.name: jsonable(p.initial) for p in self.params if p.required}

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter, checked and normalised, with Keras's defaults filled in.

        Raises ParamError naming the parameter when a value is missing, unknown or
        out of range.
        """
        known_names = self._name_set
        unknown = [name for name in params if name not in known_names]
        if unknown:
            known = ", ".join(self.param_names) or "none"
            raise ParamError(
                f"{self.type} has no parameter '{unknown[0]}' (its parameters: {known})"
            )
        resolved: dict[str, Any] = {}
        defaults = self._normalized_defaults
        for p in self.params:
            if p.name in params:
                resolved[p.name] = p.normalize(params[p.name])
            elif p.name in defaults:
                resolved[p.name] = defaults[p.name]
            else:
                hint = "" if p.initial is UNSET else f", e.g. {jsonable(p.initial)!r}"
                raise ParamError(f"{self.type} needs '{p.name}' ({p.doc}{hint})")
        return resolved

    @cached_property
    def _name_set(self) -> frozenset[str]:
        return frozenset(self.param_names)

    @cached_property
    def _normalized_defaults(self) -> dict[str, Any]:
        """Keras's defaults, checked once (they are immutable: numbers, text, tuples or None)."""
        return {p.name: (p.normalize(p.default) if p.default is not None else None)
                for p in self.params if not p.required}

    def describe(self, params: Mapping[str, Any]) -> str:
        """A short text of the key parameters for the canvas node."""
        if self.summary is None:
            return ""
        try:
            return self.summary(self.resolve(params))
        except ParamError:
            return ""


def jsonable(value: Any) -> Any:
    """A parameter value as the project file writes it: tuples become lists."""
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    return value


def dims_text(values: Sequence[Any]) -> str:
    """(5, 5) -> "5x5"; (28, 28, 6) -> "28x28x6"; None -> "?"."""
    return "x".join("?" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in values)
