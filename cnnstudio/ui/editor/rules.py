"""Which connections the canvas accepts, and the plain reason when it refuses one."""

from __future__ import annotations

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
