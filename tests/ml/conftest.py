"""TensorFlow tests: quiet start-up logs and a fresh Keras session per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    import keras

    keras.backend.clear_session()
