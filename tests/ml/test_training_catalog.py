"""The training choices are declared once (core/catalog/training.py); the copy every exported script
carries (ml/training/callbacks.py, standalone by design) says the same."""

from cnnstudio.core.catalog import training as catalog
from cnnstudio.ml.training import callbacks


def test_the_scripts_copy_offers_the_catalog_optimizers_with_the_same_keras_classes():
    assert callbacks.OPTIMIZER_CLASSES == {spec.name: spec.keras_class for spec in catalog.OPTIMIZER_SPECS}


def test_the_scripts_copy_has_the_catalog_schedules_and_their_defaults():
    assert callbacks.SCHEDULE_DEFAULTS == catalog.SCHEDULE_DEFAULTS
    assert set(callbacks.SCHEDULE_DEFAULTS) == set(catalog.SCHEDULES)


def test_every_optimizer_is_a_keras_optimizer():
    import keras

    for spec in catalog.OPTIMIZER_SPECS:
        assert issubclass(getattr(keras.optimizers, spec.keras_class), keras.optimizers.Optimizer), spec.name
