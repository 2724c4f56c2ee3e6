"""The stages and blocks of an imported network, found from its layer names (keras.applications style).

ResNet's "conv3_block2_1_conv", EfficientNet's "block4a_expand_conv", ConvNeXt's
"..._stage_2_block_1_...", MobileNetV2's "block_7_project" and NASNet's cells name their
layers by stage and block. Layers sharing a name are grouped into a block, blocks into their
stage, and unnamed layers lying between a group's layers (activations, adds) join it.
A large network opens with its stages folded. Pure Python.
"""

from __future__ import annotations

import re

from ..core import blocks
from ..core.blocks import BlockError
from ..core.network import Network

# (pattern naming the stage and the block in a layer's name, how the block is shown)
_PATTERNS = (
    (re.compile(r"^(?P<stage>conv\d+)_(?P<block>block\d+)_"), "{stage} {block}"),  # ResNet, DenseNet
    (re.compile(r"^(?P<stage>.+_stage_\d+)_(?P<block>block_\d+)_"), "{block}"),  # ConvNeXt
    (re.compile(r"^(?P<stage>block\d+)(?P<block>[a-z])_"), "{stage}{block}"),  # EfficientNet (V2)
    (re.compile(r"^(?P<stage>block(?:35|17|8))_(?P<block>\d+)_"), "{stage} {block}"),  # InceptionResNetV2
    (re.compile(r"^(?P<block>block_?\d+)_"), "{block}"),  # MobileNetV2, Xception, VGG
    (re.compile(r"^conv_(?:dw|pw|pad)_(?P<block>\d+)"), "block {block}"),  # MobileNet
    (re.compile(r"^expanded_conv(?:_(?P<block>\d+))?_"), "block {block}"),  # MobileNetV3
    (re.compile(r"^(?:.*_)?(?:normal|reduction|adjust)_.*_(?P<block>(?:stem_|reduce_)?\d+)$"), "cell {block}"),
)
FOLD_ABOVE = 100  # networks with more layers open with their stages folded


def add_stage_blocks(network: Network) -> int:
    """Group the network's layers into blocks (and stages) by their names; the number of blocks made."""
    groups: dict[str, list[str]] = {}  # block key -> layers
    names: dict[str, str] = {}
    stage_of: dict[str, str] = {}
    for node_id in network.nodes:
        found = _key(node_id)
        if found is None:
            continue
        stage, block, shown = found
        groups.setdefault(block, []).append(node_id)
        names[block] = shown
        if stage:
            stage_of[block] = stage
    made = 0
    grouped: dict[str, list[str]] = {}  # stage -> block ids made
    links = _links(network)
    for key, layers in groups.items():
        if len(layers) < 2:
            continue  # a block of one layer would only hide it
        block_id = _group(network, _between(links, set(layers)), names[key])
        if block_id is not None:
            made += 1
            if key in stage_of:
                grouped.setdefault(stage_of[key], []).append(block_id)
    made += _inception_modules(network, links)
    fold = len(network) > FOLD_ABOVE
    for stage, members in grouped.items():
        if len(members) < 2:
            continue
        layers = {n for b in members for n in blocks.layers_in(network, b)}
        shown = f"stage {stage.rsplit('_', 1)[-1]}" if "_stage_" in stage else stage
        made += _group(network, _between(links, layers), shown, collapsed=fold) is not None
    if fold and not any(network.blocks[b].collapsed for b in blocks.top_level(network)):
        for block_id in blocks.top_level(network):
            network.blocks[block_id].collapsed = True
    return made


def _inception_modules(network: Network, links: tuple[dict, dict]) -> int:
    """Inception's modules end in a concatenation named mixed0, mixed_6a, ...: each module is what lies
    between the previous one's end and its own."""
    ends = [n for n in network.nodes if _MIXED.match(n) and n not in blocks.parents(network)]
    made = 0
    for previous, end in zip(ends, ends[1:]):
        layers = _between(links, {previous, end}) - {previous}
        if len(layers) > 1 and _group(network, layers, f"module {end}") is not None:
            made += 1
    return made


_MIXED = re.compile(r"^mixed_?\d+[a-z]?$")


def _key(name: str) -> tuple[str, str, str] | None:
    for pattern, shown in _PATTERNS:
        match = pattern.match(name)
        if match:
            parts = match.groupdict()
            stage, block = parts.get("stage") or "", parts.get("block") or "0"
            return stage, f"{stage}/{block}", shown.format(stage=stage, block=block)
    return None


def _links(network: Network) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    forward: dict[str, list[str]] = {}
    backward: dict[str, list[str]] = {}
    for src, dst in network.edges:
        forward.setdefault(src, []).append(dst)
        backward.setdefault(dst, []).append(src)
    return forward, backward


def _between(links: tuple[dict, dict], layers: set[str]) -> set[str]:
    """The layers plus every layer lying between two of them (unnamed activations and adds)."""
    return layers | (_reach(links[0], layers) & _reach(links[1], layers))


def _reach(step: dict[str, list[str]], start: set[str]) -> set[str]:
    seen, stack = set(start), list(start)
    while stack:
        for nxt in step.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _group(network: Network, layers: set[str], name: str, *, collapsed: bool = False) -> str | None:
    try:
        return blocks.group(network, [n for n in network.nodes if n in layers], name, collapsed=collapsed).id
    except BlockError:
        return None  # names that do not make a clean block are left as they are
