"""Auto-layout of a network: layered from the inputs downwards, tidy, never overlapping.

A small Sugiyama-style layout in pure Python: layers get rows (longest path from the
inputs, sources pulled down next to what they feed), connections that skip rows get
invisible waypoints so a skip connection keeps a lane of its own, the order within
each row is improved by barycentre sweeps (fewer crossings), and x positions are the
least-squares fit to each node's neighbours that keeps boxes apart. Positions are box
centres; boxes of ``NODE_WIDTH`` x ``NODE_HEIGHT`` never overlap.
"""

from __future__ import annotations

from collections import defaultdict

from .network import CycleError, Network

NODE_WIDTH = 240.0
NODE_HEIGHT = 80.0
H_GAP = 40.0
V_GAP = 56.0
ROW_STEP = NODE_HEIGHT + V_GAP
COLUMN_STEP = NODE_WIDTH + H_GAP
LANE_STEP = 60.0  # between two waypoints of long connections
SWEEPS = 6  # ordering passes (down, up, down, ...)
PLACEMENT_PASSES = 5  # odd: the last pass aligns every chain under its input


def auto_layout(network: Network) -> dict[str, tuple[float, float]]:
    """Centre positions for every layer: inputs on top, each layer below all its inputs."""
    if not len(network):
        return {}
    order = _order(network)
    edges = [(s, d) for s, d in network.edges if s in network.nodes and d in network.nodes]
    rows_of = _rows(order, edges)
    graph = _Graph.build(order, edges, rows_of)
    graph.order_rows()
    xs = graph.place()
    top = [n for n in graph.rows[0] if n not in graph.waypoints] or order[:1]
    shift = -sum(xs[n] for n in top) / len(top)
    return {n: (round(xs[n] + shift, 1), round(rows_of[n] * ROW_STEP, 1)) for n in order}


def _order(network: Network) -> list[str]:
    try:
        return network.topological_order()
    except CycleError:  # a file being edited may hold a loop: lay it out in node order
        return list(network.nodes)


def _rows(order: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the top; layers without inputs sit just above their first use."""
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for s, d in edges:
        parents[d].append(s)
        children[s].append(d)
    row: dict[str, int] = {}
    for node in order:
        row[node] = max((row[p] + 1 for p in parents[node] if p in row), default=0)
    for node in reversed(order):  # sources: just above their first use (a second input, say)
        if not parents[node] and children[node]:
            row[node] = min(row[c] for c in children[node]) - 1
    lowest = min(row.values())
    return {node: r - lowest for node, r in row.items()}


class _Graph:
    """The layered graph with waypoints, its row orders, and the placement."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.up: dict[str, list[str]] = defaultdict(list)  # neighbours one row above
        self.down: dict[str, list[str]] = defaultdict(list)  # neighbours one row below
        self.waypoints: set[str] = set()

    @classmethod
    def build(cls, order: list[str], edges: list[tuple[str, str]], rows_of: dict[str, int]) -> _Graph:
        graph = cls()
        graph.rows = [[] for _ in range(max(rows_of.values()) + 1)]
        for node in order:
            graph.rows[rows_of[node]].append(node)
        for index, (src, dst) in enumerate(edges):
            previous = src
            for row in range(rows_of[src] + 1, rows_of[dst]):
                waypoint = f"\x00{index}:{row}"  # cannot clash with a layer id
                graph.waypoints.add(waypoint)
                graph.rows[row].append(waypoint)
                graph._link(previous, waypoint)
                previous = waypoint
            graph._link(previous, dst)
        return graph

    def _link(self, upper: str, lower: str) -> None:
        self.down[upper].append(lower)
        self.up[lower].append(upper)

    # -- ordering -----------------------------------------------------------------------
    def order_rows(self) -> None:
        """Barycentre sweeps; keep the ordering with the fewest crossings seen."""
        best = [list(r) for r in self.rows]
        best_crossings = self._crossings()
        if best_crossings == 0:
            return
        for sweep in range(SWEEPS):
            downwards = sweep % 2 == 0
            indices = range(1, len(self.rows)) if downwards else range(len(self.rows) - 2, -1, -1)
            for i in indices:
                fixed = self.rows[i - 1] if downwards else self.rows[i + 1]
                where = {n: k for k, n in enumerate(fixed)}
                links = self.up if downwards else self.down
                row = self.rows[i]
                keys = {}
                for k, node in enumerate(row):
                    positions = [where[n] for n in links[node] if n in where]
                    keys[node] = sum(positions) / len(positions) if positions else k
                row.sort(key=lambda n: keys[n])
            crossings = self._crossings()
            if crossings < best_crossings:
                best, best_crossings = [list(r) for r in self.rows], crossings
                if crossings == 0:
                    break
        self.rows = best

    def _crossings(self) -> int:
        total = 0
        for upper, lower in zip(self.rows, self.rows[1:], strict=False):
            where = {n: k for k, n in enumerate(lower)}
            pairs = sorted((i, where[c]) for i, n in enumerate(upper) for c in self.down[n] if c in where)
            ends = [b for _, b in pairs]
            total += _inversions(ends)
        return total

    # -- placement ----------------------------------------------------------------------
    def place(self) -> dict[str, float]:
        """x of every node: near the mean of its neighbours, in row order, boxes apart."""
        x: dict[str, float] = {}
        for row in self.rows:
            position = 0.0
            for k, node in enumerate(row):
                if k:
                    position += self._gap(row[k - 1], node)
                x[node] = position
            centre = position / 2
            for node in row:
                x[node] -= centre
        for sweep in range(PLACEMENT_PASSES):  # down (follow inputs), up (follow outputs), ..., down
            downwards = sweep % 2 == 0
            links = self.up if downwards else self.down
            for row in self.rows if downwards else reversed(self.rows):
                wanted = []
                for node in row:
                    neighbours = links[node]
                    wanted.append(sum(x[n] for n in neighbours) / len(neighbours) if neighbours else x[node])
                gaps = [self._gap(a, b) for a, b in zip(row, row[1:], strict=False)]
                for node, value in zip(row, _fit_in_order(wanted, gaps), strict=True):
                    x[node] = value
        return x

    def _gap(self, left: str, right: str) -> float:
        if left in self.waypoints and right in self.waypoints:
            return LANE_STEP
        return COLUMN_STEP  # a waypoint keeps a full column from a box: its straight edge clears it


def _fit_in_order(wanted: list[float], gaps: list[float]) -> list[float]:
    """Least-squares positions closest to ``wanted`` with x[i+1] - x[i] >= gaps[i].

    Pool-adjacent-violators on the positions minus the cumulative gaps.
    """
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [sum, count]
    for value, offset in zip(wanted, offsets, strict=True):
        blocks.append([value - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    out: list[float] = []
    for total, count in blocks:
        out.extend([total / count] * int(count))
    return [value + offset for value, offset in zip(out, offsets, strict=True)]


def _inversions(values: list[int]) -> int:
    """Pairs out of order (merge sort count): the crossings between two rows."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            i += 1
        else:
            count += len(left) - i
            j += 1
    return count
