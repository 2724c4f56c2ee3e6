"""Training again and again in one program does not keep the memory of earlier runs."""

from __future__ import annotations

import gc

from .test_trainer import npz, tiny_project, train  # noqa: F401 - npz is a fixture


def traced_training_steps() -> int:
    """How many traced training-step graphs are alive."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == "FuncGraph" and o.name == "_train_one")


def test_a_finished_run_frees_its_traced_training_step(npz):  # noqa: F811
    before = traced_training_steps()
    trainer, result = train(tiny_project(npz, epochs=1))
    assert result.epochs == 1 and traced_training_steps() == before + 1
    del trainer
    assert traced_training_steps() == before
