"""Pooling layers: local max/average pooling and global pooling, 1-D and 2-D."""

from __future__ import annotations

from typing import Any

from . import common as c
from .spec import BOOL, INTS, NO_FIELD, Inference, LayerSpec, Param, Step, dims_text

CATEGORY = "Pooling"


def _pool_rule(rank: int, type_name: str):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        c.spatial_rank(rank, shape, type_name)
        pool = p["pool_size"]
        stride = p["strides"] or pool
        sizes, formulas = c.windows(shape, pool, stride, (1,) * rank, p["padding"], type_name)
        return Inference(
            output_shape=sizes + (shape[-1],),
            step=Step(pool, stride),
            shape_formula=formulas + [f"channels unchanged = {shape[-1]}"],
            param_formula=["params = 0 (pooling has nothing to learn)"],
        )

    return rule


def _pool_summary(p: dict[str, Any]) -> str:
    text = dims_text(p["pool_size"])
    if p["strides"] and p["strides"] != p["pool_size"]:
        text += f", stride {dims_text(p['strides'])}"
    return text + ("" if p["padding"] == "valid" else f", {p['padding']}")


def _pool_spec(kind: str, rank: int) -> LayerSpec:
    type_name = f"{kind}Pooling{rank}D"
    doc = {
        "Max": "keeps the largest value in each window: shrinks the map, keeps the strongest response",
        "Average": "keeps the mean of each window: shrinks the map smoothly",
    }[kind]
    pool_doc = "size of the window pooled into one value"
    if kind == "Max":
        pool = Param("pool_size", INTS, pool_doc, default=2, rank=rank, minimum=1, maximum=1024)
    else:  # Keras has no default pool size for average pooling
        pool = Param("pool_size", INTS, pool_doc, initial=2, rank=rank, minimum=1, maximum=1024)
    return LayerSpec(
        type=type_name,
        category=CATEGORY,
        doc=doc,
        params=(pool, c.strides(rank, nullable=True), c.padding()),
        rule=_pool_rule(rank, type_name),
        summary=_pool_summary,
        receptive_field="window",
    )


def _global_rule(rank: int, type_name: str):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        c.spatial_rank(rank, shape, type_name)
        channels = shape[-1]
        out = (1,) * rank + (channels,) if p["keepdims"] else (channels,)
        return Inference(
            output_shape=out,
            step=NO_FIELD,
            shape_formula=[f"one value per channel: {dims_text(shape)} -> {dims_text(out)}"],
            param_formula=["params = 0"],
        )

    return rule


def _global_spec(kind: str, rank: int) -> LayerSpec:
    type_name = f"Global{kind}Pooling{rank}D"
    what = "largest" if kind == "Max" else "mean"
    return LayerSpec(
        type=type_name,
        category=CATEGORY,
        doc=f"keeps the {what} value of each whole feature map: one number per channel, any input size",
        params=(Param("keepdims", BOOL, "keep the spatial axes with size 1", default=False, advanced=True),),
        rule=_global_rule(rank, type_name),
    )


SPECS = (
    _pool_spec("Max", 1),
    _pool_spec("Max", 2),
    _pool_spec("Average", 1),
    _pool_spec("Average", 2),
    _global_spec("Max", 1),
    _global_spec("Average", 1),
    _global_spec("Max", 2),
    _global_spec("Average", 2),
)
