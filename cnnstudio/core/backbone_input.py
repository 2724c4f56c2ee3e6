"""What a pretrained backbone needs in front of it to take the data, as ordinary layers.

A keras.applications network takes colour images of at least its family's smallest size.
Data that is smaller gets a Resizing layer up to that size; grayscale gets a fixed 1x1 Conv2D
that repeats its one channel three times (weights of ones, frozen); other channel counts get a
1x1 Conv2D that learns three colour channels from them. The window puts these layers before a
backbone dropped on the canvas, where the user sees and changes them; a project file gets no
layers it does not list, and its errors name what to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import CATALOG
from .catalog.backbone_table import TABLE

CATEGORY = "Pretrained"


@dataclass(frozen=True)
class InputLayer:
    """One layer to put before the backbone: its type, parameters, whether it trains, and why it is there."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    trainable: bool = True
    why: str = ""

    def node(self, node_id: str, position: tuple[float, float] | None) -> dict[str, Any]:
        """As a project-file node (the form the editor's commands take)."""
        data: dict[str, Any] = {"id": node_id, "type": self.type, "params": dict(self.params)}
        if position is not None:
            data["position"] = [float(position[0]), float(position[1])]
        if not self.trainable:
            data["trainable"] = False
        return data


def is_backbone(type_name: str) -> bool:
    spec = CATALOG.get(type_name)
    return spec is not None and spec.category == CATEGORY


def smallest_side(family: str) -> int:
    return int(TABLE[family]["minimum"])


def input_layers(family: str, params: dict[str, Any], shape: tuple[int | None, ...] | None) -> list[InputLayer]:
    """The layers that turn inputs of `shape` (height, width, channels) into what `family` takes; [] when
    it takes them as they are, or when they are no images of known size (the backbone's own check speaks)."""
    if shape is None or len(shape) != 3 or any(s is None or s < 1 for s in shape):
        return []
    height, width, channels = (int(s) for s in shape)
    least, usual = smallest_side(family), int(TABLE[family]["default"])
    resolved = CATALOG[family].resolve(params)
    if resolved.get("include_top"):  # its classifier was made for one size
        target, reason = (usual, usual), "its classifier's size"
    else:
        target, reason = (max(height, least), max(width, least)), "its smallest"
    layers = []
    if target != (height, width):
        layers.append(InputLayer("Resizing", {"height": target[0], "width": target[1]},
                                 why=f"a Resizing layer ({height}x{width} \N{RIGHTWARDS ARROW} "
                                     f"{target[0]}x{target[1]}, {reason})"))
    if channels == 1:
        layers.append(InputLayer("Conv2D", {"filters": 3, "kernel_size": 1, "use_bias": False,
                                            "kernel_initializer": "ones"}, trainable=False,
                                 why="a frozen Conv2D repeating grey as RGB"))
    elif channels != 3:
        layers.append(InputLayer("Conv2D", {"filters": 3, "kernel_size": 1},
                                 why=f"a 1x1 Conv2D learning RGB from the {channels} channels"))
    return layers


def describe(family: str, node_id: str, layers: list[InputLayer], before: list[str] = (),
             after: list[str] = ()) -> str:
    """One sentence for the status bar: what was added with the backbone (``before`` and ``after``: other
    additions, e.g. an Input and a head)."""
    parts = [*before, *(layer.why for layer in layers), *after]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{family} '{node_id}' fits the data with {listed}; all editable"
