"""Random edit sequences in the editor: the canvas always shows the model, the project always
round-trips through its file format, and undoing everything gives back the starting project."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from PySide6.QtCore import QPointF

from cnnstudio.core.catalog import CATALOG, get_spec
from cnnstudio.core.catalog.spec import INT
from cnnstudio.core.project import dumps, project_from_dict
from cnnstudio.ui.editor.commands import SetParamCommand

LAYER_TYPES = sorted(CATALOG)


def _int_params(type_name: str) -> list:
    return [p for p in get_spec(type_name).params if p.kind == INT and p.minimum is not None and not p.nullable]


class EditingMachine(RuleBasedStateMachine):
    window = None  # set by the test

    @initialize(template=st.sampled_from(["lenet5", "resnet-mini", "mlp"]))
    def start(self, template):
        assert self.window.new_from_template(template)
        self.document = self.window.document
        self.editor = self.window.editor
        self.start_json = self.document.project.to_dict()

    @property
    def ids(self) -> list[str]:
        return sorted(self.document.network.nodes)

    @rule(type_name=st.sampled_from(LAYER_TYPES), x=st.integers(-800, 800), y=st.integers(-200, 1600))
    def add(self, type_name, x, y):
        new_id = self.editor.add_layer(type_name, QPointF(x, y))
        assert new_id in self.document.network

    @precondition(lambda self: len(self.document.network) > 0)
    @rule(data=st.data())
    def delete(self, data):
        victim = data.draw(st.sampled_from(self.ids))
        self.editor.select([victim])
        assert self.editor.delete_selection()
        assert victim not in self.document.network

    @precondition(lambda self: len(self.document.network) > 1)
    @rule(data=st.data())
    def connect(self, data):
        src, dst = data.draw(st.permutations(self.ids))[:2]
        self.editor.scene.connect_layers(src, dst)  # refused with a reason when it cannot work
        assert not any(a == b for a, b in self.document.network.edges)

    @precondition(lambda self: len(self.document.network.edges) > 0)
    @rule(data=st.data())
    def disconnect(self, data):
        src, dst = data.draw(st.sampled_from(sorted(self.document.network.edges)))
        self.editor.disconnect(src, dst)
        assert (src, dst) not in self.document.network.edges

    @precondition(lambda self: any(_int_params(n.type) for n in self.document.network))
    @rule(data=st.data())
    def change_parameter(self, data):
        node_id = data.draw(st.sampled_from([n.id for n in self.document.network if _int_params(n.type)]))
        param = data.draw(st.sampled_from(_int_params(self.document.network.node(node_id).type)))
        top = int(min(param.maximum if param.maximum is not None else 64, 64))
        value = data.draw(st.integers(int(param.minimum), max(int(param.minimum), top)))
        self.document.push(SetParamCommand(self.document.network, node_id, param.name, value))
        assert self.document.network.node(node_id).params[param.name] == value

    @precondition(lambda self: len(self.document.network) > 0)
    @rule(data=st.data())
    def copy_and_paste(self, data):
        chosen = data.draw(st.lists(st.sampled_from(self.ids), min_size=1, max_size=3, unique=True))
        self.editor.select(chosen)
        assert self.editor.copy_selection()
        pasted = self.editor.paste(QPointF(900, 0))
        assert len(pasted) == len(chosen) and all(p in self.document.network for p in pasted)

    @rule()
    def undo(self):
        self.document.undo_stack.undo()

    @rule()
    def redo(self):
        self.document.undo_stack.redo()

    @invariant()
    def canvas_shows_exactly_the_model(self):
        if not hasattr(self, "document"):
            return
        self.document.refresh_analysis()
        network = self.document.network
        assert set(self.editor.scene.nodes) == set(network.nodes)
        assert set(self.editor.scene.edges) == set(network.edges)
        for item in self.editor.scene.nodes.values():
            assert item.node_id in network

    @invariant()
    def project_round_trips_through_its_file_format(self):
        if not hasattr(self, "document"):
            return
        project = self.document.project
        again = project_from_dict(json.loads(dumps(project)))
        assert again.to_dict() == project.to_dict()

    def teardown(self):
        if not hasattr(self, "document"):
            return
        stack = self.document.undo_stack
        while stack.canUndo():
            stack.undo()
        assert self.document.project.to_dict() == self.start_json


def test_random_edit_sequences_keep_canvas_file_and_undo_history_consistent(main_window):
    EditingMachine.window = main_window
    try:
        run_state_machine_as_test(
            EditingMachine,
            settings=settings(max_examples=30, stateful_step_count=25, deadline=None,
                              suppress_health_check=list(HealthCheck)),
        )
    finally:
        EditingMachine.window = None  # a window kept past the test outlives the QApplication
