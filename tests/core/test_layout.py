"""Auto-layout: inputs on top, every connection pointing down, no two boxes overlapping, tidy columns."""

from __future__ import annotations

import random

import pytest

from cnnstudio.core.layout import COLUMN_STEP, NODE_HEIGHT, NODE_WIDTH, ROW_STEP, auto_layout
from cnnstudio.core.network import Network, Node
from cnnstudio.core.templates import TEMPLATE_NAMES, load_template


def overlapping(positions: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    items = list(positions.items())
    return [
        (a, b)
        for i, (a, (ax, ay)) in enumerate(items)
        for b, (bx, by) in items[i + 1:]
        if abs(ax - bx) < NODE_WIDTH and abs(ay - by) < NODE_HEIGHT
    ]


def random_network(seed: int, size: int) -> Network:
    """A random DAG: several inputs, fan-out, merges, long skips."""
    rng = random.Random(seed)
    network = Network()
    ids = []
    for i in range(size):
        node = network.add_node("Input" if i < 1 + rng.random() * 2 else "Dense", node_id=f"n{i}")
        if ids and node.type != "Input":
            for src in rng.sample(ids, k=min(len(ids), rng.choice([1, 1, 1, 2, 3]))):
                network.connect(src, node.id)
        ids.append(node.id)
    return network


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_templates_are_laid_out_without_overlaps_and_downwards(name):
    network = load_template(name).network
    positions = auto_layout(network)
    assert set(positions) == set(network.nodes)
    assert overlapping(positions) == []
    assert all(positions[dst][1] > positions[src][1] for src, dst in network.edges)


@pytest.mark.parametrize("seed", range(12))
def test_random_networks_never_overlap_and_every_connection_points_down(seed):
    network = random_network(seed, 40)
    positions = auto_layout(network)
    assert overlapping(positions) == []
    assert all(positions[dst][1] >= positions[src][1] + ROW_STEP for src, dst in network.edges)


def test_a_chain_is_one_straight_column_under_its_input():
    positions = auto_layout(load_template("lenet5").network)
    assert {x for x, _ in positions.values()} == {0.0}
    assert sorted(y for _, y in positions.values()) == [i * ROW_STEP for i in range(len(positions))]


def test_a_skip_connection_gets_its_own_lane_beside_the_block():
    """Residual blocks: the block's layers one column to the side, fork and merge between them, so the
    straight skip line passes no layer box."""
    network = load_template("resnet-mini").network
    positions = auto_layout(network)
    fork_x, fork_y = positions["stem_relu"]
    add_x, add_y = positions["block1_add"]
    assert fork_x == add_x
    block = ["block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2", "block1_bn2"]
    assert {positions[n][0] for n in block} == {fork_x - COLUMN_STEP / 2}
    assert all(abs(positions[n][0] - fork_x) >= NODE_WIDTH / 2 for n in block)
    assert positions["block2_shortcut"][0] > positions["block2_conv1"][0]


def test_a_second_input_sits_just_above_where_it_is_used():
    network = Network()
    for node_id, type_name in (("image", "Input"), ("a", "Dense"), ("b", "Dense"), ("c", "Dense"),
                               ("extra", "Input"), ("join", "Concatenate")):
        network.add_node(type_name, node_id=node_id)
    for src, dst in (("image", "a"), ("a", "b"), ("b", "c"), ("c", "join"), ("extra", "join")):
        network.connect(src, dst)
    positions = auto_layout(network)
    assert positions["extra"][1] == positions["c"][1] == positions["join"][1] - ROW_STEP
    assert overlapping(positions) == []


def test_layout_is_the_same_every_time():
    network = random_network(3, 60)
    assert auto_layout(network) == auto_layout(network.copy())


def test_an_empty_network_has_no_positions():
    assert auto_layout(Network()) == {}


def test_a_loop_in_a_broken_file_still_gets_positions_without_overlaps():
    nodes = [Node(node_id, "Dense") for node_id in ("a", "b", "c")]
    network = Network.from_parts(nodes, [("a", "b"), ("b", "c"), ("c", "b")])  # a loop, as a hand-edited file might hold
    positions = auto_layout(network)
    assert set(positions) == {"a", "b", "c"} and overlapping(positions) == []
