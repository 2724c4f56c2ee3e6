"""The layer catalog: every layer CNN Studio supports, declared once.

The palette, the inspector, validation, shape inference, the Keras builder and the
code generator all read these entries; adding a layer means adding one entry.
"""

from __future__ import annotations

from . import (
    application_layers,
    attention,
    backbones,
    convolution,
    core_layers,
    elementwise,
    pooling,
    reshaping,
)
from .spec import (
    IDENTITY,
    NO_FIELD,
    UNSET,
    Inference,
    LayerSpec,
    Param,
    ParamError,
    ShapeError,
    Step,
    dims_text,
    jsonable,
)

CATEGORIES = (
    "Input",
    "Convolution",
    "Pooling",
    "Core",
    "Normalization & regularization",
    "Activation",
    "Merge",
    "Reshaping",
    "Preprocessing & augmentation",
    "Pretrained",
)

CATALOG: dict[str, LayerSpec] = {
    spec.type: spec
    for module in (core_layers, convolution, pooling, elementwise, reshaping, attention, application_layers,
                   backbones)
    for spec in module.SPECS
}


def get_spec(type_name: str) -> LayerSpec:
    """The catalog entry for a Keras layer class name; ParamError names close matches."""
    try:
        return CATALOG[type_name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(type_name, CATALOG, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ParamError(f"unknown layer type '{type_name}'{hint}") from None


def by_category() -> dict[str, list[LayerSpec]]:
    """Catalog entries grouped in palette order."""
    groups: dict[str, list[LayerSpec]] = {name: [] for name in CATEGORIES}
    for spec in CATALOG.values():
        groups[spec.category].append(spec)
    return groups


__all__ = [
    "CATALOG", "CATEGORIES", "IDENTITY", "NO_FIELD", "UNSET", "Inference", "LayerSpec",
    "Param", "ParamError", "ShapeError", "Step", "by_category", "dims_text", "get_spec", "jsonable",
]
