"""What the side that runs ML jobs keeps between them: loaded datasets and the model being looked at.

One `Workspace` lives with the `JobHost` (on the ML thread, or in a worker process).
Jobs ask it for "the model of this run" or "the untrained network as it is now" and
for the project's dataset; it loads each once and hands back the cached object while
nothing changed.

    facts = workspace.use_model(project, run_dir)     # loads or reuses; ModelFacts
    workspace.inspector.activations(image)            # then ask the Inspector anything
    data = workspace.dataset(project)                 # the project's dataset, loaded once

Making one loads no Keras: a worker whose jobs never touch a model or a dataset (a ping)
starts them without importing TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import UserError
from ..core.project import Project, load_project
from .jobs.results import LayerFacts, ModelFacts
from .training.preparation import dataset_options
from .training.settings import TrainingSettings

if TYPE_CHECKING:
    import keras

    from .inspection import Inspector

KEEP_DATASETS = 3  # loaded datasets kept in memory (least recently used dropped first)


class Workspace:
    """Cached datasets and the current model with its `Inspector` (use from the ML thread only)."""

    def __init__(self) -> None:
        self._datasets: dict[tuple, Any] = {}
        self._model_key: tuple | None = None
        self.model: keras.Model | None = None
        self.inspector: Inspector | None = None
        self.facts: ModelFacts | None = None

    # -- the model ------------------------------------------------------------------------------
    def use_model(self, project: Project, run_dir: str | Path | None = None) -> ModelFacts:
        """Make the run's trained model (or, with no run, the project's untrained network) current.

        The untrained network is built with the project's seed, so the same network always
        gets the same starting weights. Nothing is rebuilt while the source is unchanged.
        """
        if run_dir is not None:
            run_dir = Path(run_dir)
            model_file = run_dir / "model.keras"
            if not model_file.is_file():
                model_file = run_dir / "checkpoints" / "last.keras"
            if not model_file.is_file():
                raise UserError(f"{run_dir} holds no trained model yet")
            key: tuple = ("run", str(run_dir.resolve()), model_file.stat().st_mtime_ns)
        else:
            key = ("network", json.dumps(project.network.to_dict(), sort_keys=True, default=str),
                   int(project.training.get("seed") or 0))
        if key == self._model_key and self.facts is not None:
            return self.facts
        if run_dir is not None:
            from .export import load_keras_model

            model = load_keras_model(model_file)
            snapshot = run_dir / "project.cnnproj"
            source_project = load_project(snapshot) if snapshot.is_file() else project
            source = run_dir.name
        else:
            from .builder import untrained_model

            model = untrained_model(project)
            source_project, source = project.copy(), "untrained network"
        self._set_model(model, source_project, source, run_dir)
        self._model_key = key
        return self.facts

    def use_keras_model(self, model: keras.Model, project: Project, source: str) -> ModelFacts:
        """Inspect a model already in memory (an imported one, or one just trained)."""
        self._set_model(model, project, source, None)
        self._model_key = ("memory", id(model))
        return self.facts

    def _set_model(self, model: keras.Model, project: Project, source: str, run_dir: Path | None) -> None:
        from .inspection import Inspector
        from .inspection.layers import is_conv, is_spatial, output_shape

        self.model = model
        self.inspector = Inspector(model)
        layers = []
        for layer in model.layers:
            try:
                shape = tuple(output_shape(layer)[1:])
            except UserError:
                shape = ()
            layers.append(LayerFacts(layer.name, type(layer).__name__, shape, is_conv(layer), is_spatial(layer)))
        try:
            cam_layer = self.inspector.grad_cam_layer()
        except UserError:
            cam_layer = None
        self.facts = ModelFacts(source, run_dir, project, tuple(layers), tuple(self.inspector.input_shape),
                                self.inspector.output_activation(), cam_layer)

    def require_model(self) -> Inspector:
        if self.inspector is None:
            raise UserError("no model is loaded yet: open a project or a training run first")
        return self.inspector

    # -- datasets -------------------------------------------------------------------------------
    def dataset(self, project: Project, progress=None):
        """The project's dataset, split and transformed as its settings say (loaded once).

        The few most recently used datasets stay loaded, so switching back is instant
        without every dataset ever looked at staying in memory.
        """
        from .data import load_dataset

        settings = TrainingSettings.from_project(project)
        options = dataset_options(project, settings)
        name = str(project.dataset.get("name") or "")
        key = (name, tuple(sorted((k, _hashable(v)) for k, v in options.items())))
        if key in self._datasets:
            self._datasets[key] = self._datasets.pop(key)  # most recently used last
        else:
            self._datasets[key] = load_dataset(name, progress=progress, **options)
            while len(self._datasets) > KEEP_DATASETS:
                del self._datasets[next(iter(self._datasets))]
        return self._datasets[key]

    def forget_datasets(self) -> None:
        self._datasets.clear()


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    return value
