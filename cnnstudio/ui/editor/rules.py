"""Which connections the canvas accepts, and the plain reason when it refuses one."""

from __future__ import annotations

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import CATALOG
from cnnstudio.core.network import Network

MERGE_HINT = "join several layers with an Add or Concatenate layer first"


def connection_problem(network: Network, src: str, dst: str) -> str | None:
    """None when ``src -> dst`` may be added; otherwise why not, in the user's words."""
    if src not in network or dst not in network:
        return "both ends of a connection must be layers"
    if src == dst:
        return f"'{src}' cannot be connected to itself"
    dst_type = network.node(dst).type
    spec = CATALOG.get(dst_type)
    if dst_type == "Input" or (spec is not None and spec.max_inputs == 0):
        return f"'{dst}' is an Input layer: data enters the network there, so nothing can feed it"
    if (src, dst) in network.edges:
        return f"'{src}' is already connected to '{dst}'"
    if network.would_cycle(src, dst):
        return f"connecting '{src}' to '{dst}' would make a loop ('{dst}' already feeds '{src}'); data must flow one way"
    inputs = network.inputs_of(dst)
    if spec is not None and spec.max_inputs is not None and len(inputs) >= spec.max_inputs:
        feeding = ", ".join(f"'{i}'" for i in inputs)
        if spec.max_inputs == 1:
            return f"{dst_type} '{dst}' takes one input and {feeding} already feeds it; {MERGE_HINT}"
        return f"{dst_type} '{dst}' takes at most {spec.max_inputs} inputs and already has {len(inputs)} ({feeding})"
    return None


def reconnection(network: Network, node_ids: list[str]) -> tuple[list[tuple[str, str, int]], str | None]:
    """How deleting ``node_ids`` can keep the network joined up: the connections
    (source, target, place in the edge list once the layers are gone, applied in order) that
    bridge the gap, and why not when it cannot.

    It can when the deleted layers are fed from exactly one layer outside them and that layer's
    output fits where theirs went: the bridged network has no error downstream that the network
    does not have already. Each target keeps its input position (it matters for Concatenate).
    """
    deleted = set(node_ids)
    sources = {src for src, dst in network.edges if dst in deleted and src not in deleted}
    places, gone = [], 0
    for index, (src, dst) in enumerate(network.edges):
        if src in deleted or dst in deleted:
            if src in deleted and dst not in deleted:
                places.append((dst, index - gone))
            gone += 1
    if not places:
        return [], None  # nothing below them: nothing to join
    if len(sources) != 1:
        what = "nothing feeds them" if not sources else f"{len(sources)} layers feed them"
        return [], f"{what}, so there is no one layer to join to what they fed"
    (source,) = sources
    bridged = network.copy()
    for node_id in node_ids:
        bridged.remove_node(node_id)
    plan: list[tuple[str, str, int]] = []
    for dst, place in places:
        if (source, dst) not in bridged.edges:
            plan.append((source, dst, place + len(plan)))
            bridged.connect(source, dst, plan[-1][2])
    before = {(d.node, d.message) for d in analyze(network).errors}
    downstream = _downstream(bridged, [dst for _, dst, _ in plan])
    new = [d for d in analyze(bridged).errors if d.node in downstream and (d.node, d.message) not in before]
    if new:
        return [], f"'{source}' does not fit there ({new[0].node}: {new[0].message})"
    return plan, None


def _downstream(network: Network, starts: list[str]) -> set[str]:
    seen, stack = set(), list(starts)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(network.outputs_of(node))
    return seen
