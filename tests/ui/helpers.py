"""Helpers for the UI tests: mouse gestures on the canvas and test networks."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsView

from cnnstudio.core.network import Network
from cnnstudio.core.project import Project


def _send(
    view: QGraphicsView,
    kind: QEvent.Type,
    scene_pos: QPointF,
    buttons: Qt.MouseButton,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    local = QPointF(view.mapFromScene(scene_pos))
    global_pos = QPointF(view.viewport().mapToGlobal(local.toPoint()))
    event = QMouseEvent(kind, local, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(view.viewport(), event)


def drag(
    view: QGraphicsView,
    start: QPointF,
    end: QPointF,
    steps: int = 6,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press the left button at ``start`` (scene coordinates), move to ``end``, release."""
    left = Qt.MouseButton.LeftButton
    _send(view, QEvent.Type.MouseButtonPress, start, left, left, modifiers)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        _send(view, QEvent.Type.MouseMove, point, left, Qt.MouseButton.NoButton, modifiers)
    _send(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, left, modifiers)


def click(
    view: QGraphicsView, pos: QPointF, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    left = Qt.MouseButton.LeftButton
    _send(view, QEvent.Type.MouseButtonPress, pos, left, left, modifiers)
    _send(view, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton, left, modifiers)


def port_pos(window, node_id: str, output: bool = True) -> QPointF:
    item = window.editor.scene.nodes[node_id]
    port = item.output_port if output else item.input_port
    return port.scenePos()


def center_on(window, node_id: str) -> None:
    window.editor.view.centerOn(window.editor.scene.nodes[node_id])


def chain_project(layers: int = 200, name: str = "Deep chain") -> Project:
    """A long sequential network: Input, then blocks of Conv2D/BatchNormalization/ReLU, then a
    classifier head; ``layers`` layers in all."""
    network = Network()
    previous = network.add_node("Input", {"shape": [32, 32, 3]}, node_id="input").id
    kinds = [
        ("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same"}),
        ("BatchNormalization", {}),
        ("ReLU", {}),
    ]
    index = 0
    while len(network) < layers - 3:
        type_name, params = kinds[index % len(kinds)]
        node = network.add_node(type_name, params, node_id=f"layer{index}")
        network.connect(previous, node.id)
        previous = node.id
        index += 1
    for type_name, params, node_id in (
        ("GlobalAveragePooling2D", {}, "pool"),
        ("Dropout", {"rate": 0.2}, "drop"),
        ("Dense", {"units": 10, "activation": "softmax"}, "output"),
    ):
        node = network.add_node(type_name, params, node_id=node_id)
        network.connect(previous, node.id)
        previous = node.id
    return Project(name, network)


def save_tiny_residual(path):
    """A small functional Keras model with a skip connection (layers: image, conv_a, conv_b, skip, pool,
    scores), saved to ``path``; returns the model."""
    import keras

    image = keras.Input((28, 28, 1), name="image")
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(image)
    b = keras.layers.Conv2D(4, 3, padding="same", name="conv_b")(a)
    merged = keras.layers.Add(name="skip")([a, b])
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(merged)
    scores = keras.layers.Dense(10, activation="softmax", name="scores")(pooled)
    model = keras.Model(image, scores, name="tiny_residual")
    model.save(path)
    return model
