"""Training again and again in one program does not keep the memory of earlier runs."""

from __future__ import annotations

import gc
import weakref

from .test_trainer import npz, tiny_project, train  # noqa: F401 - npz is a fixture


def traced_graphs() -> int:
    """How many traced TensorFlow graphs are alive."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == "FuncGraph")


def test_a_finished_run_frees_its_model_and_traced_steps(npz):  # noqa: F811
    train(tiny_project(npz, epochs=1))  # the first run traces what every later run shares
    before = traced_graphs()
    trainer, result = train(tiny_project(npz, epochs=1))
    assert result.epochs == 1
    model = weakref.ref(trainer.model)
    del trainer
    gc.collect()
    assert model() is None and traced_graphs() <= before
