"""Copy and paste of layers: a JSON fragment of the project format on the clipboard."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QMimeData

from cnnstudio.core.network import ID_PATTERN, Network

LAYERS_MIME = "application/x-cnnstudio-layers"


def fragment(network: Network, node_ids: Iterable[str]) -> dict[str, Any]:
    """The chosen layers and the connections among them, as project-file JSON."""
    chosen = [n for n in network.nodes if n in set(node_ids)]
    edges = [[s, d] for s, d in network.edges if s in chosen and d in chosen]
    return {"nodes": [network.node(n).to_dict() for n in chosen], "edges": edges}


def to_mime(data: dict[str, Any]) -> QMimeData:
    mime = QMimeData()
    text = json.dumps(data, indent=1)
    mime.setData(LAYERS_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def hand_over_clipboard() -> None:
    """Before Qt shuts down, leave copied layers on the clipboard as plain text owned by Qt.

    Mime data made in Python and still held by the clipboard would be destroyed after the
    interpreter has stopped, which crashes the program on exit; plain JSON text pastes the same.
    """
    from PySide6.QtGui import QGuiApplication

    board = QGuiApplication.clipboard()
    mime = board.mimeData()
    if mime is not None and mime.hasFormat(LAYERS_MIME):
        board.setText(mime.text())


def from_mime(mime: QMimeData | None) -> dict[str, Any] | None:
    """The fragment on the clipboard, also accepted as plain JSON text; None if there is none."""
    if mime is None:
        return None
    if mime.hasFormat(LAYERS_MIME):
        raw = bytes(mime.data(LAYERS_MIME)).decode("utf-8", "replace")
    elif mime.hasText():
        raw = mime.text()
    else:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return None
    nodes = [
        n
        for n in data["nodes"]
        if isinstance(n, dict)
        and isinstance(n.get("type"), str)
        and isinstance(n.get("id"), str)
        and ID_PATTERN.match(n["id"])
    ]
    if not nodes:
        return None
    ids = {n["id"] for n in nodes}
    edges = [
        e
        for e in data.get("edges", [])
        if isinstance(e, list) and len(e) == 2 and e[0] in ids and e[1] in ids and e[0] != e[1]
    ]
    return {"nodes": nodes, "edges": edges}


def paste_plan(
    network: Network, data: dict[str, Any], offset: tuple[float, float]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Nodes with fresh ids (conv1 -> conv1_1 when taken) moved by ``offset``, and their edges."""
    taken = set(network.nodes)
    renamed: dict[str, str] = {}
    nodes = []
    for raw in data["nodes"]:
        node = copy.deepcopy(raw)
        new_id = node["id"]
        if new_id in taken:
            stem = new_id.rstrip("0123456789").rstrip("_") if new_id.rsplit("_", 1)[-1].isdigit() else new_id
            stem = stem or "layer"
            i = 1
            while f"{stem}_{i}" in taken:
                i += 1
            new_id = f"{stem}_{i}"
        taken.add(new_id)
        renamed[node["id"]] = new_id
        node["id"] = new_id
        x, y = node.get("position") or (0.0, 0.0)
        node["position"] = [float(x) + offset[0], float(y) + offset[1]]
        nodes.append(node)
    edges = []
    for src, dst in data.get("edges", []):
        if src in renamed and dst in renamed:
            edge = (renamed[src], renamed[dst])
            if edge not in edges:
                edges.append(edge)
    return nodes, edges
