"""The network graph: edits, order, events."""

import pytest

from cnnstudio.core.network import GraphError, Network


def small_chain() -> Network:
    net = Network()
    net.add_node("Input", {"shape": [28, 28, 1]}, node_id="input")
    net.add_node("Conv2D", {"filters": 4, "kernel_size": 3}, node_id="conv")
    net.add_node("Flatten", node_id="flat")
    net.connect("input", "conv")
    net.connect("conv", "flat")
    return net


def test_topological_order_puts_each_layer_after_its_inputs():
    net = small_chain()
    net.add_node("Dense", {"units": 3}, node_id="head")
    net.connect("flat", "head")
    assert net.topological_order() == ["input", "conv", "flat", "head"]


def test_connecting_into_a_loop_is_refused_with_a_reason():
    net = small_chain()
    with pytest.raises(GraphError, match="loop"):
        net.connect("flat", "conv")


def test_merge_inputs_keep_the_order_of_their_edges():
    net = small_chain()
    net.add_node("Conv2D", {"filters": 4, "kernel_size": 3}, node_id="other")
    net.add_node("Add", node_id="add")
    net.connect("input", "other")
    net.connect("other", "add")
    net.connect("conv", "add")
    assert net.inputs_of("add") == ["other", "conv"]


def test_every_edit_emits_a_change_event():
    net = small_chain()
    seen = []
    net.changed.connect(lambda kind, ids: seen.append((kind, ids)))
    net.set_param("conv", "filters", 8)
    net.disconnect("conv", "flat")
    net.remove_node("flat")
    assert [k for k, _ in seen] == ["params", "edge_removed", "node_removed"]


def test_removing_a_node_returns_its_edges_so_undo_can_restore_them():
    net = small_chain()
    node = net.node("conv")
    index = net.node_index("conv")
    removed = net.remove_node("conv")
    assert [e for _, e in removed] == [("input", "conv"), ("conv", "flat")]
    net.restore_node(node, index)
    for position, (src, dst) in removed:
        net.connect(src, dst, position)
    assert net.edges == [("input", "conv"), ("conv", "flat")]
    assert list(net.nodes) == ["input", "conv", "flat"]


def test_unique_ids_follow_the_layer_type():
    net = small_chain()
    assert net.unique_id("Conv2D") == "conv2d"
    net.add_node("Conv2D", {"filters": 1, "kernel_size": 1})
    assert net.unique_id("Conv2D") == "conv2d_1"
    assert net.unique_id("MaxPooling2D") == "max_pooling2d"


def test_rename_updates_edges_and_rejects_bad_ids():
    net = small_chain()
    net.rename_node("conv", "features")
    assert ("input", "features") in net.edges
    with pytest.raises(GraphError):
        net.rename_node("features", "2bad")
    with pytest.raises(GraphError):
        net.rename_node("features", "flat")


def test_several_inputs_and_outputs():
    net = Network()
    net.add_node("Input", {"shape": [4]}, node_id="a")
    net.add_node("Input", {"shape": [4]}, node_id="b")
    net.add_node("Dense", {"units": 2}, node_id="da")
    net.add_node("Dense", {"units": 2}, node_id="db")
    net.connect("a", "da")
    net.connect("b", "db")
    assert net.input_nodes() == ["a", "b"]
    assert net.output_nodes() == ["da", "db"]
