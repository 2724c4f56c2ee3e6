"""Blocks: grouping, nesting, folding, freezing and repeating layers; saved in version-2 project files."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core import blocks
from cnnstudio.core.analysis import analyze
from cnnstudio.core.blocks import BlockError
from cnnstudio.core.errors import ProjectError
from cnnstudio.core.network import Network
from cnnstudio.core.project import Project, load_project, project_from_dict, save_project
from cnnstudio.core.templates import load_template


def residual_network() -> Network:
    """image -> stem -> [conv_a -> bn_a -> add(stem, bn_a) -> relu] -> pool -> out."""
    net = Network()
    net.add_node("Input", {"shape": [16, 16, 3]}, node_id="image")
    net.add_node("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"}, node_id="stem")
    net.add_node("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"}, node_id="conv_a")
    net.add_node("BatchNormalization", {}, node_id="bn_a")
    net.add_node("Add", {}, node_id="add")
    net.add_node("ReLU", {}, node_id="relu")
    net.add_node("GlobalAveragePooling2D", {}, node_id="pool")
    net.add_node("Dense", {"units": 10, "activation": "softmax"}, node_id="out")
    for src, dst in (("image", "stem"), ("stem", "conv_a"), ("conv_a", "bn_a"), ("stem", "add"), ("bn_a", "add"),
                     ("add", "relu"), ("relu", "pool"), ("pool", "out")):
        net.connect(src, dst)
    return net


def test_grouped_layers_form_a_block_with_totals():
    net = residual_network()
    block = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual 1")
    assert block.id == "residual_1" and blocks.layers_in(net, block.id) == ["conv_a", "bn_a", "add", "relu"]
    (info,) = blocks.block_tree(net, analyze(net))
    assert info.params == (3 * 3 * 8 * 8 + 8) + 4 * 8 and info.non_trainable_params == 16
    assert info.output_shapes == [(16, 16, 8)] and info.receptive_field == (5, 5)


def test_blocks_nest_and_ungrouping_keeps_the_layers():
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    outer = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    assert net.blocks[outer.id].members == ["add", "relu", inner.id]
    assert blocks.parents(net)[inner.id] == outer.id
    blocks.ungroup(net, outer.id)
    assert list(net.blocks) == [inner.id] and len(net) == 8
    assert blocks.top_level(net) == [inner.id]


def test_a_block_that_would_loop_once_folded_is_refused_with_the_layer_in_between():
    net = residual_network()
    with pytest.raises(BlockError, match="'bn_a' lies between layers of the block"):
        blocks.group(net, ["conv_a", "add"], "Broken")


def test_a_block_that_would_cut_another_in_two_is_refused():
    net = residual_network()
    blocks.group(net, ["conv_a", "bn_a"], "Branch")
    with pytest.raises(BlockError, match="cut the block 'Branch' in two"):
        blocks.group(net, ["bn_a", "add", "relu"], "Overlap")


def test_frozen_layers_and_blocks_count_every_weight_as_non_trainable():
    net = residual_network()
    net.set_trainable("stem", False)
    result = analyze(net)
    assert result.layers["stem"].non_trainable == 224 and not result.layers["stem"].trainable
    block = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    blocks.set_trainable(net, block.id, False)
    frozen = analyze(net)
    assert frozen.trainable_params == 8 * 10 + 10  # only the Dense head trains
    assert frozen.non_trainable_params == frozen.total_params - 90


def test_blocks_and_frozen_layers_survive_save_and_load_as_version_2(tmp_path):
    net = residual_network()
    block = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual", collapsed=True)
    net.blocks[block.id].extra["colour"] = "teal"  # a key a later version may add: kept
    net.set_trainable("stem", False)
    path = tmp_path / "res.cnnproj"
    save_project(Project("Res", net), path)
    data = json.loads(path.read_text())
    assert data["version"] == 2
    assert data["network"]["blocks"] == [{"id": "residual", "name": "Residual",
                                          "nodes": ["conv_a", "bn_a", "add", "relu"], "collapsed": True,
                                          "colour": "teal"}]
    assert {"id": "stem", "trainable": False}.items() <= data["network"]["nodes"][1].items()
    loaded = load_project(path)
    assert loaded.network.to_dict() == net.to_dict()
    assert analyze(loaded.network).trainable_params == analyze(net).trainable_params


def test_a_version_1_file_loads_unchanged_and_stays_version_1(tmp_path):
    project = load_template("resnet-mini")
    path = tmp_path / "plain.cnnproj"
    save_project(project, path)
    assert json.loads(path.read_text())["version"] == 1
    assert load_project(path).network.to_dict() == project.network.to_dict()


def test_a_version_1_program_refuses_version_2_with_its_usual_message(monkeypatch):
    from cnnstudio.core import project as project_module

    monkeypatch.setattr(project_module, "CURRENT_VERSION", 1)
    data = {"format": "cnnstudio-project", "version": 2, "name": "x", "network": {"nodes": [], "edges": []}}
    with pytest.raises(ProjectError, match="saved by a newer CNN Studio"):
        project_from_dict(data, "new.cnnproj")


@pytest.mark.parametrize(("blocks_json", "expected"), [
    ([{"id": "b", "nodes": ["nowhere"]}], "lists 'nowhere', which is neither a layer nor a block"),
    ([{"id": "b", "nodes": ["stem"]}, {"id": "c", "nodes": ["stem"]}], "'stem' is in both block 'b' and block 'c'"),
    ([{"id": "b", "nodes": ["c"]}, {"id": "c", "nodes": ["b"]}], "ends up inside itself"),
    ([{"id": "stem", "nodes": []}], "has the id of a layer"),
    ([{"id": "b", "nodes": ["conv_a", "add"]}], "lies between layers of the block"),
    ([{"id": "b", "nodes": [], "collapsed": "yes"}], "\"collapsed\" must be true or false"),
])
def test_blocks_that_do_not_fit_the_network_are_refused_on_load(blocks_json, expected):
    data = {"format": "cnnstudio-project", "version": 2, "name": "x",
            "network": {**residual_network().to_dict(), "blocks": blocks_json}}
    with pytest.raises(ProjectError, match=expected):
        project_from_dict(data, "bad.cnnproj")


def test_renaming_a_layer_keeps_it_in_its_block():
    net = residual_network()
    block = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    net.rename_node("bn_a", "norm")
    assert net.blocks[block.id].members == ["conv_a", "norm"]


def test_repeating_a_block_chains_real_copies_with_new_ids():
    net = residual_network()
    block = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    made = blocks.repeat(net, block.id, 2)
    assert [b.name for b in made] == ["Residual (2)", "Residual (3)"]
    assert made[0].members == ["conv_a_2", "bn_a_2", "add_2", "relu_2"]
    assert net.inputs_of("conv_a_2") == ["relu"] and net.inputs_of("add_2") == ["relu", "bn_a_2"]
    assert net.inputs_of("pool") == ["relu_3"]  # what followed the block now follows the last copy
    result = analyze(net)
    assert result.ok and result.layers["relu_3"].output_shape == (16, 16, 8)
    assert result.total_params == analyze(residual_network()).total_params + 2 * (584 + 32)
    assert made[1].extra["copy_of"] == block.id


def test_a_block_whose_output_does_not_match_its_input_cannot_repeat():
    net = residual_network()
    block = blocks.group(net, ["pool", "out"], "Head")
    with pytest.raises(BlockError, match=r"output \(10\) to match its input \(16x16x8\)"):
        blocks.repeat(net, block.id, 2)
    two_in = blocks.group(net, ["add"], "Join")
    with pytest.raises(BlockError, match="takes 2 input"):
        blocks.repeat(net, two_in.id, 1)


def test_blocks_are_announced_to_views():
    net = residual_network()
    seen = []
    net.changed.connect(lambda kind, ids: seen.append((kind, ids)))
    block = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    blocks.set_collapsed(net, block.id, True)
    assert seen == [("blocks", [block.id]), ("blocks", [block.id])] and net.blocks[block.id].collapsed


def test_the_layers_of_every_block_in_one_pass_are_those_of_each_block():
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    outer = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    every = blocks.layers_by_block(net)
    assert every == {b: blocks.layers_in(net, b) for b in (inner.id, outer.id)}


def test_a_loop_through_a_folded_block_is_found_on_load_beside_blocks_of_a_long_chain():
    net = Network()
    net.add_node("Input", {"shape": [8, 8, 3]}, node_id="image")
    previous = "image"
    for i in range(60):
        net.add_node("ReLU", {}, node_id=f"r{i}")
        net.connect(previous, f"r{i}")
        previous = f"r{i}"
    net.add_node("Add", {}, node_id="add")
    net.connect("r40", "add")
    net.connect("r45", "add")
    chain = [{"id": f"c{k}", "nodes": [f"r{i}" for i in range(k * 10, k * 10 + 10)]} for k in range(4)]
    data = {"format": "cnnstudio-project", "version": 2, "name": "x", "network": {**net.to_dict(), "blocks": chain}}
    project_from_dict(data, "fine.cnnproj")  # blocks along a chain, nothing in between
    looping = chain + [{"id": "bad", "nodes": ["r40", "add"]}]
    with pytest.raises(ProjectError, match="'r41', 'r42', 'r43' ... lie between layers of the block"):
        project_from_dict({**data, "network": {**data["network"], "blocks": looping}}, "bad.cnnproj")


def test_every_block_is_put_in_order_in_one_pass_as_each_is_alone():
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    outer = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    head = blocks.group(net, ["pool", "out"], "Head")
    orders = blocks.ordered_all(net)
    assert orders[None] == ["image", "stem", outer.id, head.id]
    assert orders[outer.id] == [inner.id, "add", "relu"] and orders[inner.id] == ["conv_a", "bn_a"]
    assert orders == {b: blocks.ordered_items(net, b) for b in (None, inner.id, outer.id, head.id)}
