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


def test_a_layer_id_with_a_trailing_newline_is_refused():
    net = small_chain()
    with pytest.raises(GraphError, match="not a valid layer id"):
        net.add_node("Dense", {"units": 3}, node_id="head\n")
    with pytest.raises(GraphError, match="not a valid layer id"):
        net.rename_node("flat", "flat\n")


def test_inputs_and_outputs_follow_every_kind_of_edit():
    """The adjacency indexes answer as a scan of the edge list would, after each edit."""
    net = small_chain()
    net.add_node("Conv2D", {"filters": 4, "kernel_size": 3}, node_id="other")
    net.add_node("Add", node_id="add")
    net.connect("input", "other")
    net.connect("conv", "add")
    net.connect("other", "add", index=0)  # placed first: the Add's first input

    def scanned(n: Network):
        return ({k: [s for s, d in n.edges if d == k] for k in n.nodes},
                {k: [d for s, d in n.edges if s == k] for k in n.nodes})

    def indexed(n: Network):
        return ({k: n.inputs_of(k) for k in n.nodes}, {k: n.outputs_of(k) for k in n.nodes})

    assert net.inputs_of("add") == ["other", "conv"]
    assert indexed(net) == scanned(net)
    index = net.disconnect("other", "add")
    assert indexed(net) == scanned(net) and net.inputs_of("add") == ["conv"]
    net.connect("other", "add", index=index)
    assert net.inputs_of("add") == ["other", "conv"]
    net.rename_node("other", "side")
    assert indexed(net) == scanned(net) and net.has_edge("side", "add") and not net.has_edge("other", "add")
    removed = net.remove_node("side")
    assert indexed(net) == scanned(net) and sorted(e for _, e in removed) == [("input", "side"), ("side", "add")]
    assert net.output_nodes() == ["flat", "add"]
    copied = net.copy()
    copied.connect("flat", "add")
    assert not net.has_edge("flat", "add") and indexed(copied) == scanned(copied)


def test_a_20000_layer_chain_is_ordered_and_checked_for_loops_without_recursion():
    net = Network()
    net.add_node("Input", {"shape": [4]}, node_id="input")
    previous = "input"
    for i in range(20000):
        net.add_node("Dense", {"units": 4}, node_id=f"d{i}")
        net.connect(previous, f"d{i}")
        previous = f"d{i}"
    order = net.topological_order()
    assert order[0] == "input" and order[-1] == "d19999" and len(order) == 20001
    assert net.would_cycle("d19999", "input") and not net.would_cycle("input", "d19999")
