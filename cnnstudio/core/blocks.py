"""Blocks: named groups of layers (a ResNet stage, a backbone's parts) that can nest, fold and repeat.

A block lists its members: layer ids and the ids of the blocks nested in it. Blocks never
change what the network computes; they organise it for reading (collapsed on the canvas,
a tree in the summary, a function per block in the generated code) and carry a `trainable`
switch that freezes every layer inside. Repeating a block copies its layers for real, with
new ids, one copy after another.

Pure Python; the network keeps its blocks in `network.blocks` and every change here is
announced with `network.changed` (kind "blocks").
"""

from __future__ import annotations

import copy
import heapq
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import Analysis
    from .network import Network


class BlockError(ValueError):
    """A grouping that cannot be made; the message gives the reason in the user's words."""


@dataclass
class Block:
    """One block: its id, the name shown, its members (layer and block ids, in order) and switches."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    collapsed: bool = False
    trainable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, kept on save

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "nodes": list(self.members),
                                "collapsed": self.collapsed}
        if not self.trainable:
            data["trainable"] = False
        data.update(copy.deepcopy(self.extra))
        return data


@dataclass
class BlockInfo:
    """A block's totals for the summary and the inspector (a tree: `children` are nested blocks)."""

    id: str
    name: str
    layers: list[str]  # the layers directly inside (not those of nested blocks)
    children: list[BlockInfo]
    params: int
    trainable_params: int
    non_trainable_params: int
    output_shapes: list[tuple[int | None, ...]]  # of the layers whose results leave the block
    receptive_field: tuple[int, ...] | None
    collapsed: bool
    trainable: bool

    def to_json(self) -> dict[str, Any]:
        shapes = [list(s) for s in self.output_shapes]
        return {
            "id": self.id, "name": self.name, "layers": list(self.layers),
            "params": self.params, "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "output_shape": shapes[0] if len(shapes) == 1 else shapes,
            "receptive_field": None if self.receptive_field is None else list(self.receptive_field),
            "collapsed": self.collapsed, "trainable": self.trainable,
            "blocks": [child.to_json() for child in self.children],
        }


# ---------------------------------------------------------------------- queries


def parents(network: Network) -> dict[str, str]:
    """Member id (layer or block) -> the id of the block directly holding it."""
    return {member: block.id for block in network.blocks.values() for member in block.members}


def top_level(network: Network) -> list[str]:
    """Ids of the blocks no other block holds, in the order they were made."""
    held = parents(network)
    return [b for b in network.blocks if b not in held]


def layers_in(network: Network, block_id: str) -> list[str]:
    """Every layer inside a block, nested blocks included, in the network's order."""
    wanted: set[str] = set()
    stack = [block_id]
    while stack:
        for member in network.blocks[stack.pop()].members:
            if member in network.blocks:
                stack.append(member)
            elif member in network.nodes:
                wanted.add(member)
    return [n for n in network.nodes if n in wanted]


def layers_by_block(network: Network) -> dict[str, list[str]]:
    """Every block's layers (nested blocks included, in the network's order), all in one pass: asking
    ``layers_in`` of each block reads the whole network once per block."""
    held = parents(network)
    found: dict[str, list[str]] = {block_id: [] for block_id in network.blocks}
    for node_id in network.nodes:
        owner, steps = held.get(node_id), 0
        while owner is not None and steps <= len(found):  # steps: a nesting loop in a broken file ends
            found[owner].append(node_id)
            owner, steps = held.get(owner), steps + 1
    return found


def frozen_layers(network: Network) -> set[str]:
    """Layers that do not train: switched off themselves or inside a block that is."""
    frozen = {node.id for node in network if not node.trainable}
    for block in network.blocks.values():
        if not block.trainable:
            frozen.update(layers_in(network, block.id))
    return frozen


def boundary(network: Network, layers: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(edges entering the layers from outside, layers whose results leave them or are network outputs)."""
    inside = set(layers)
    entering = [(s, d) for s, d in network.edges if d in inside and s not in inside]
    leaving = {s for s, d in network.edges if s in inside and d not in inside}
    outputs = set(network.output_nodes())
    return entering, [n for n in network.nodes if n in inside and (n in leaving or n in outputs)]


def ordered_items(network: Network, block_id: str | None = None) -> list[str]:
    """The direct members of a block (of the whole network with None: loose layers and top blocks), in an
    order where each comes after everything it takes input from; a block counts as one item."""
    return ordered_all(network, [block_id])[block_id]


def ordered_all(network: Network, wanted: Iterable[str | None] | None = None) -> dict[str | None, list[str]]:
    """``ordered_items`` of the whole network (None) and of every block (or of the ``wanted`` ones), from one
    pass over the connections: a network of hundreds of blocks is put in order in time proportional to it."""
    held = parents(network)
    every = layers_by_block(network)
    wanted = [None, *network.blocks] if wanted is None else list(wanted)
    rank = {n: i for i, n in enumerate(network.nodes)}
    found: dict[str | None, list[str]] = {}
    needs: dict[str | None, dict[str, set[str]]] = {}
    for container in wanted:
        if container is None:
            members = [n for n in network.nodes if n not in held] + top_level(network)
        else:  # a deleted layer stays listed (undo puts it back) but is not an item
            members = [m for m in network.blocks[container].members if m in network.nodes or m in network.blocks]
        found[container] = members
        needs[container] = {m: set() for m in members}
    for s, d in network.edges:
        chain_s, chain_d = _chain(s, held), _chain(d, held)
        shared = set(chain_d)
        for i, container in enumerate(chain_s[1:], start=1):  # the innermost container holding both
            if container in shared:
                if container in needs:
                    item_s, item_d = chain_s[i - 1], chain_d[chain_d.index(container) - 1]
                    if item_s != item_d and item_d in needs[container] and item_s in needs[container]:
                        needs[container][item_d].add(item_s)
                break
    first = {m: (rank[m] if m in rank else rank[every[m][0]] if every.get(m) else 0)
             for members in found.values() for m in members}
    return {container: _in_order(members, needs[container], first) for container, members in found.items()}


def _chain(layer: str, held: dict[str, str]) -> list[str | None]:
    """A layer, the blocks around it from the innermost out, then None (the whole network)."""
    chain: list[str | None] = [layer]
    owner = held.get(layer)
    while owner is not None and len(chain) <= len(held) + 1:
        chain.append(owner)
        owner = held.get(owner)
    return [*chain, None]


def _in_order(members: list[str], needs: dict[str, set[str]], first: dict[str, int]) -> list[str]:
    """Each member after those it needs; of those ready, the one whose first layer comes first."""
    waiting = {m: len(needs[m]) for m in members}
    followers: dict[str, list[str]] = {}
    for member, before in needs.items():
        for other in before:
            followers.setdefault(other, []).append(member)
    place = {m: i for i, m in enumerate(members)}
    ready = [(first[m], place[m], m) for m in members if not waiting[m]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        member = heapq.heappop(ready)[2]
        order.append(member)
        for follower in followers.get(member, ()):
            waiting[follower] -= 1
            if not waiting[follower]:
                heapq.heappush(ready, (first[follower], place[follower], follower))
    if len(order) < len(members):  # blocks that would loop once folded: check_group refuses to make them
        raise BlockError("the blocks cannot be put in order (a folded block would make a loop)")
    return order


def block_tree(network: Network, analysis: Analysis) -> list[BlockInfo]:
    """The blocks as a tree with per-block totals (parameters, trainable/frozen, output, receptive field)."""
    following: dict[str, list[str]] = {}
    for s, d in network.edges:
        following.setdefault(s, []).append(d)
    outputs = set(network.output_nodes())
    every = layers_by_block(network)

    def info(block_id: str) -> BlockInfo:
        block = network.blocks[block_id]
        layers = every[block_id]
        inside = set(layers)
        found = [analysis.layers[n] for n in layers if n in analysis.layers]
        params = sum(i.params for i in found)
        frozen = sum(i.non_trainable for i in found)
        exits = [n for n in layers if n in outputs or any(d not in inside for d in following.get(n, ()))]
        shapes = [analysis.layers[n].output_shape for n in exits if n in analysis.layers]
        fields = [analysis.layers[n].receptive_field for n in exits if n in analysis.layers]
        return BlockInfo(
            block.id, block.name,
            [m for m in block.members if m in network.nodes],
            [info(m) for m in block.members if m in network.blocks],
            params, params - frozen, frozen,
            [s for s in shapes if s is not None],
            fields[0] if len(fields) == 1 else None,
            block.collapsed, block.trainable,
        )

    return [info(b) for b in top_level(network)]


# ---------------------------------------------------------------------- edits


def group(network: Network, ids: Iterable[str], name: str, *, block_id: str | None = None,
          collapsed: bool = False) -> Block:
    """Make a block of the given layers and blocks; BlockError says why it cannot be made."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise BlockError("select the layers to group first")
    for member in ids:
        if member not in network.nodes and member not in network.blocks:
            raise BlockError(f"there is no layer or block '{member}'")
    layers: set[str] = set()
    for member in ids:
        layers.update(layers_in(network, member) if member in network.blocks else [member])
    check_group(network, layers)
    block_id = block_id or unique_block_id(network, name)
    _check_new_id(network, block_id)
    held = parents(network)
    enclosing = [b for b in network.blocks if set(layers_in(network, b)) > layers]
    parent = min(enclosing, key=lambda b: len(layers_in(network, b)), default=None)
    members = _topmost(network, layers, parent)
    block = Block(block_id, name or block_id, members, collapsed)
    for member in members:  # out of their old parent
        owner = held.get(member)
        if owner is not None and owner != block_id:
            network.blocks[owner].members = [m for m in network.blocks[owner].members if m != member]
    if parent is not None:
        siblings = network.blocks[parent].members
        network.blocks[parent].members = siblings + [block_id]
    network.blocks[block_id] = block
    _announce(network, [block_id])
    return block


def check_group(network: Network, layers: set[str]) -> None:
    """BlockError when grouping `layers` would make a loop once folded or cut an existing block in two."""
    if not layers:
        raise BlockError("a block needs at least one layer")
    after = _reach(network, layers, forward=True) - layers
    before = _reach(network, layers, forward=False) - layers
    between = [n for n in network.nodes if n in after and n in before]
    if between:
        shown = ", ".join(f"'{n}'" for n in between[:3]) + (" ..." if len(between) > 3 else "")
        raise BlockError(f"{shown} lie{'s' if len(between) == 1 else ''} between layers of the block (the data "
                         "would leave the folded block and come back, a loop); add "
                         f"{'it' if len(between) == 1 else 'them'} to the block or leave out the layers after")
    for block in network.blocks.values():
        inside = set(layers_in(network, block.id))
        if inside & layers and not (inside <= layers or layers <= inside):
            raise BlockError(f"it would cut the block '{block.name}' in two; take all of its layers or none")


def ungroup(network: Network, block_id: str) -> None:
    """Remove a block, keeping its layers (and nested blocks) where they are."""
    block = _block(network, block_id)
    owner = parents(network).get(block_id)
    if owner is not None:
        members = network.blocks[owner].members
        index = members.index(block_id)
        network.blocks[owner].members = members[:index] + block.members + members[index + 1:]
    del network.blocks[block_id]
    _announce(network, [block_id])


def set_collapsed(network: Network, block_id: str, collapsed: bool) -> None:
    _block(network, block_id).collapsed = bool(collapsed)
    _announce(network, [block_id])


def rename_block(network: Network, block_id: str, name: str) -> None:
    if not name.strip():
        raise BlockError("a block needs a name")
    _block(network, block_id).name = name.strip()
    _announce(network, [block_id])


def set_trainable(network: Network, item_id: str, trainable: bool) -> None:
    """Freeze (False) or unfreeze a layer or a block (every layer inside it follows the block)."""
    if item_id in network.blocks:
        network.blocks[item_id].trainable = bool(trainable)
        _announce(network, [item_id])
        return
    network.set_trainable(item_id, trainable)


def repeat(network: Network, block_id: str, times: int, *, analysis: Analysis | None = None) -> list[Block]:
    """Add `times` copies of a block after it, each fed by the one before (a ResNet stage); the new blocks.

    The block must take one input from outside and give one output, of the same shape, so the
    copies can follow each other; BlockError says what is wrong otherwise.
    """
    from .analysis import analyze

    block = _block(network, block_id)
    if not 1 <= times <= 100:
        raise BlockError(f"repeat a block 1 to 100 times, not {times}")
    layers = layers_in(network, block_id)
    entering, exits = boundary(network, layers)
    sources = list(dict.fromkeys(s for s, _ in entering))
    if len(sources) != 1 or len(exits) != 1:
        raise BlockError(f"repeating '{block.name}' would cut its connections: it takes {len(sources)} input(s) "
                         f"from outside and gives {len(exits)} output(s); a repeated block needs one of each")
    analysis = analysis or analyze(network)
    shape_in = analysis.layers[sources[0]].output_shape
    shape_out = analysis.layers[exits[0]].output_shape
    if shape_in is None or shape_in != shape_out:
        raise BlockError(f"repeating '{block.name}' needs its output ({_shape(shape_out)}) to match its input "
                         f"({_shape(shape_in)}) so each copy can follow the one before")
    after = [(i, (s, d)) for i, (s, d) in enumerate(network.edges) if s == exits[0] and d not in set(layers)]
    previous, made = exits[0], []
    width = _width(network, layers)
    for k in range(1, times + 1):
        renamed = _copy_layers(network, layers, k, width)
        for s, d in network.edges:  # in the original order: merges keep the order of their inputs
            if d in renamed and (s in renamed or s == sources[0]):
                network.connect(renamed.get(s, previous), renamed[d])
        made.append(_copy_block(network, block_id, renamed, k))
        previous = renamed[exits[0]]
    for _, (s, d) in sorted(after, reverse=True):
        network.disconnect(s, d)
    for index, (_, d) in sorted(after):
        network.connect(previous, d, index)
    return made


def unique_block_id(network: Network, name: str) -> str:
    """A fresh block id from its name: "Stage 1" -> stage_1, stage_1_2, ..."""
    stem = "".join(ch.lower() if ch.isalnum() else "_" for ch in name).strip("_") or "block"
    if stem[0].isdigit():
        stem = "block_" + stem
    candidate, n = stem, 2
    while candidate in network.nodes or candidate in network.blocks:
        candidate = f"{stem}_{n}"
        n += 1
    return candidate


def blocks_state(network: Network) -> list[dict[str, Any]]:
    """The blocks as plain data (for undo: `restore_blocks` puts them back)."""
    return [block.to_dict() for block in network.blocks.values()]


def restore_blocks(network: Network, state: list[dict[str, Any]]) -> None:
    network.blocks = {item["id"]: block_from_dict(item) for item in state}
    _announce(network, [item["id"] for item in state])


def block_from_dict(item: dict[str, Any]) -> Block:
    known = {"id", "name", "nodes", "collapsed", "trainable"}
    return Block(str(item["id"]), str(item.get("name") or item["id"]), [str(m) for m in item.get("nodes", [])],
                 bool(item.get("collapsed", False)), item.get("trainable", True) is not False,
                 {k: copy.deepcopy(v) for k, v in item.items() if k not in known})


def check_blocks(network: Network, where: str) -> None:
    """ValueError naming the block when a loaded file's blocks do not fit its network."""
    seen: dict[str, str] = {}
    for block in network.blocks.values():
        if block.id in network.nodes:
            raise ValueError(f"{where}: block '{block.id}' has the id of a layer; ids must be unique")
        for member in block.members:
            if member not in network.nodes and member not in network.blocks:
                raise ValueError(f"{where}: block '{block.id}' lists '{member}', which is neither a layer nor a block")
            if member in seen:
                raise ValueError(f"{where}: '{member}' is in both block '{seen[member]}' and block '{block.id}'")
            seen[member] = block.id
    for block_id in network.blocks:  # nesting must not loop
        current, steps = block_id, 0
        while current in seen:
            current, steps = seen[current], steps + 1
            if current == block_id or steps > len(network.blocks):
                raise ValueError(f"{where}: block '{block_id}' ends up inside itself")
    # each member has one block, so no block can cut another in two: only loops through a folded block are
    # looked for, along the layers lying between a block's first and last layer in a topological order
    try:
        rank = {n: i for i, n in enumerate(network.topological_order())}
    except ValueError:  # a network with a loop of its own: analysis names it; blocks are checked the long way
        rank = None
    every = layers_by_block(network)
    steps = _steps(network)
    for block_id, block in network.blocks.items():
        layers = set(every[block_id])
        try:
            if not layers:  # an empty block (its layers deleted) is harmless
                continue
            if rank is None:
                check_group(network, layers)
            else:
                _check_no_loop(network, layers, rank, steps)
        except BlockError as exc:
            raise ValueError(f"{where}: block '{block.name}': {exc}") from None


# ---------------------------------------------------------------------- helpers


def _block(network: Network, block_id: str) -> Block:
    try:
        return network.blocks[block_id]
    except KeyError:
        raise BlockError(f"there is no block '{block_id}'") from None


def _check_new_id(network: Network, block_id: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", block_id):
        raise BlockError(f"'{block_id}' is not a valid block id (letters, digits and _; not starting with a digit)")
    if block_id in network.nodes or block_id in network.blocks:
        raise BlockError(f"there is already a layer or block '{block_id}'")


def _announce(network: Network, ids: list[str]) -> None:
    from .network import NetworkChange  # network.py imports this module

    network.changed.emit(kind=NetworkChange.BLOCKS, ids=ids)


def _steps(network: Network) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(layer -> the layers it feeds, layer -> the layers feeding it)."""
    forward: dict[str, list[str]] = {}
    backward: dict[str, list[str]] = {}
    for s, d in network.edges:
        forward.setdefault(s, []).append(d)
        backward.setdefault(d, []).append(s)
    return forward, backward


def _check_no_loop(network: Network, layers: set[str], rank: dict[str, int],
                   steps: tuple[dict[str, list[str]], dict[str, list[str]]]) -> None:
    """``check_group``'s loop test, walking only the layers ranked between the block's first and last (no
    other layer can leave the block and come back): a chain of blocks is checked in time proportional to it."""
    first, last = min(rank[n] for n in layers), max(rank[n] for n in layers)
    if last - first + 1 == len(layers):
        return  # nothing else lies in between
    after = _reach_within(steps[0], layers, lambda n: rank[n] < last) - layers
    before = _reach_within(steps[1], layers, lambda n: rank[n] > first) - layers
    between = [n for n in network.nodes if n in after and n in before]
    if between:
        check_group(network, layers)  # the full check words the reason


def _reach_within(step: dict[str, list[str]], start: set[str], keep) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        for nxt in step.get(queue.popleft(), ()):
            if nxt not in seen and keep(nxt):
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _reach(network: Network, start: set[str], *, forward: bool) -> set[str]:
    step: dict[str, list[str]] = {}
    for s, d in network.edges:
        a, b = (s, d) if forward else (d, s)
        step.setdefault(a, []).append(b)
    seen = set(start)
    queue = deque(start)
    while queue:
        for nxt in step.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _topmost(network: Network, layers: set[str], parent: str | None) -> list[str]:
    """The new block's direct members: blocks wholly inside it whose parent is not, and loose layers."""
    held = parents(network)
    inner = [b for b in network.blocks if set(layers_in(network, b)) <= layers]
    inner_set = set(inner)
    members = [b for b in inner if held.get(b) not in inner_set]
    covered = {n for b in members for n in layers_in(network, b)}
    return [n for n in network.nodes if n in layers and n not in covered] + members


def _copy_layers(network: Network, layers: list[str], k: int, width: float) -> dict[str, str]:
    renamed = {}
    for node_id in layers:
        node = network.nodes[node_id]
        new_id = _fresh(network, f"{node_id}_{k + 1}")
        position = None if node.position is None else (node.position[0] + k * width, node.position[1])
        copy_node = network.add_node(node.type, copy.deepcopy(node.params), node_id=new_id, position=position,
                                     extra=copy.deepcopy(node.extra))
        copy_node.trainable = node.trainable
        renamed[node_id] = new_id
    return renamed


def _copy_block(network: Network, block_id: str, renamed: dict[str, str], k: int, *, top: bool = True) -> Block:
    """Copies of a block and its nested blocks over the renamed layers; returns the outer copy, placed
    beside the original (in the same parent block)."""
    original = network.blocks[block_id]
    members = [_copy_block(network, m, renamed, k, top=False).id if m in network.blocks else renamed[m]
               for m in original.members]
    block = Block(unique_block_id(network, f"{block_id}_{k + 1}"), f"{original.name} ({k + 1})", members,
                  original.collapsed, original.trainable, {**copy.deepcopy(original.extra), "copy_of": block_id})
    owner = parents(network).get(block_id) if top else None
    network.blocks[block.id] = block
    if owner is not None:
        network.blocks[owner].members = network.blocks[owner].members + [block.id]
    _announce(network, [block.id])
    return block


def _fresh(network: Network, base: str) -> str:
    candidate, n = base, 2
    while candidate in network.nodes or candidate in network.blocks:
        candidate = f"{base}_{n}"
        n += 1
    return candidate


def _width(network: Network, layers: list[str]) -> float:
    xs = [network.nodes[n].position[0] for n in layers if network.nodes[n].position is not None]
    return (max(xs) - min(xs) + 200.0) if xs else 200.0


def _shape(shape: Any) -> str:
    return "unknown" if shape is None else "x".join("?" if s is None else str(s) for s in shape)
