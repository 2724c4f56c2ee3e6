"""Copies of layers and blocks (copy, cut, duplicate, paste): blocks come with their layers, inner
connections, nesting, folding, freezing and repeats, under fresh ids."""

from __future__ import annotations

import json

from cnnstudio.core import blocks, fragments
from cnnstudio.core.analysis import analyze
from tests.core.test_blocks import residual_network


def nested_network():
    """The residual network with Residual [add, relu, Branch [conv_a, bn_a]], folded and frozen inside."""
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    blocks.set_trainable(net, inner.id, False)
    outer = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual", collapsed=True)
    return net, inner.id, outer.id


def paste(net, data, offset=(40.0, 40.0)):
    nodes, edges, groups = fragments.paste_plan(net, fragments.checked(json.loads(json.dumps(data))), offset)
    for node in nodes:
        net.add_node(node["type"], node.get("params", {}), node_id=node["id"], position=node.get("position"))
    for src, dst in edges:
        net.connect(src, dst)
    blocks.restore_blocks(net, blocks.blocks_state(net) + groups)
    return nodes, groups


def test_a_copied_block_brings_its_layers_inner_connections_and_nested_blocks():
    net, inner, outer = nested_network()
    data = fragments.fragment(net, [], [outer])
    assert [n["id"] for n in data["nodes"]] == ["conv_a", "bn_a", "add", "relu"]
    assert data["edges"] == [["conv_a", "bn_a"], ["bn_a", "add"], ["add", "relu"]]  # not stem -> add
    assert {b["id"]: b["nodes"] for b in data["blocks"]} == {inner: ["conv_a", "bn_a"], outer: ["add", "relu", inner]}


def test_a_pasted_block_is_grouped_folded_and_frozen_as_the_original_under_fresh_ids():
    net, inner, outer = nested_network()
    nodes, groups = paste(net, fragments.fragment(net, [], [outer]))
    assert [n["id"] for n in nodes] == ["conv_a_1", "bn_a_1", "add_1", "relu_1"]
    new_inner, new_outer = (g["id"] for g in groups)
    assert net.blocks[new_outer].members == ["add_1", "relu_1", new_inner]
    assert net.blocks[new_outer].name == "Residual (copy)" and net.blocks[new_outer].collapsed
    assert not net.blocks[new_inner].trainable and blocks.frozen_layers(net) >= {"conv_a_1", "bn_a_1"}
    assert blocks.top_level(net) == [outer, new_outer]
    blocks.check_blocks(net, "pasted")  # a valid grouping
    assert net.inputs_of("add_1") == ["bn_a_1"]  # its outside input was not copied


def test_layers_selected_whole_bring_their_block_and_a_partial_selection_does_not():
    net, inner, outer = nested_network()
    assert [b["id"] for b in fragments.fragment(net, ["conv_a", "bn_a", "add"]).get("blocks", [])] == [inner]
    assert "blocks" not in fragments.fragment(net, ["conv_a", "add"])


def test_a_copy_of_a_repeat_still_names_the_block_it_repeats():
    net = residual_network()
    stage = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual").id
    (copy_block,) = blocks.repeat(net, stage, 1)
    _, groups = paste(net, fragments.fragment(net, [], [copy_block.id]))
    assert groups[0]["copy_of"] == stage
    other = residual_network()
    _, groups = paste(other, fragments.fragment(net, [], [copy_block.id]))
    assert "copy_of" not in groups[0]  # the block it repeated is not in that network


def test_deleting_a_block_takes_its_nested_blocks_and_empties_nothing_else():
    net, inner, outer = nested_network()
    assert fragments.blocks_without(net, blocks.layers_in(net, outer), [outer]) == []
    left = fragments.blocks_without(net, ["conv_a", "bn_a"], [inner])
    assert [(b["id"], b["nodes"]) for b in left] == [(outer, ["add", "relu"])]
    left = fragments.blocks_without(net, ["conv_a", "bn_a"])  # its layers all deleted: the block goes too
    assert [b["id"] for b in left] == [outer]


def test_clipboard_text_with_blocks_that_do_not_fit_is_cleaned():
    data = {"nodes": [{"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"}], "edges": [["a", "b"]],
            "blocks": [{"id": "x", "name": "X", "nodes": ["a", "y", "ghost"]},
                       {"id": "y", "name": "Y", "nodes": ["b", "x"]},  # inside each other
                       {"id": "a", "nodes": ["b"]}, "junk", {"id": "9bad", "nodes": []}]}
    cleaned = fragments.checked(data)
    assert [(b["id"], b["nodes"]) for b in cleaned["blocks"]] == [("x", ["a"]), ("y", ["b", "x"])]
    net = residual_network()
    paste(net, data)
    blocks.check_blocks(net, "pasted")
    assert analyze(net).layers["b"].output_shape is None  # pasted unconnected: nothing feeds it yet
