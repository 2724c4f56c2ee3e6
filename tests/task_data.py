"""Tiny datasets and networks for each task kind (segmentation, regression, multi-label), for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from cnnstudio.core.project import project_from_dict

PALETTE = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12)


def blob_masks(n: int, seed: int, side: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Grey pictures of a bright square (class 1) and a dim bar (class 2) on black, and their masks."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, side, side), np.float32)
    masks = np.zeros((n, side, side), np.uint8)
    for i in range(n):
        top, left = rng.integers(0, side - 5, 2)
        masks[i, top:top + 5, left:left + 5] = 1
        row = rng.integers(0, side)
        masks[i, row, :] = np.where(masks[i, row, :] == 0, 2, masks[i, row, :])
    images[masks == 1], images[masks == 2] = 1.0, 0.5
    images += rng.normal(0, 0.05, images.shape).astype(np.float32)
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), masks


def write_segmentation_npz(folder: Path, n: int = 96) -> Path:
    x, y = blob_masks(n, 1)
    xt, yt = blob_masks(24, 2)
    path = folder / "blobs.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt, class_names=np.array(["none", "square", "bar"]))
    return path


def write_segmentation_folder(folder: Path, n: int = 40) -> Path:
    """images/ (PNG and JPEG pictures) and masks/ (grey and palette PNGs) for `blob_masks`."""
    x, y = blob_masks(n, 3)
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i in range(n):
        Image.fromarray(x[i]).save(folder / "images" / (f"b{i:02d}.jpg" if i % 4 == 0 else f"b{i:02d}.png"))
        mask = Image.fromarray(y[i], "L")
        if i % 2:  # a palette PNG: its pixel values are the palette's indices, read as they are
            mask = Image.fromarray(y[i], "P")
            mask.putpalette(PALETTE)
        mask.save(folder / "masks" / f"b{i:02d}.png")
    return folder


def write_regression_npz(folder: Path, n: int = 120) -> Path:
    """Pictures whose target is their mean brightness and the row of their brightest pixel (two values)."""
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (n, 8, 8)).astype(np.float32)
    y = np.stack([x.mean(axis=(1, 2)), x.max(axis=2).argmax(axis=1) / 7.0], axis=1).astype(np.float32)
    path = folder / "values.npz"
    np.savez(path, x_train=x, y_train=y)
    return path


def write_multilabel_npz(folder: Path, n: int = 120) -> Path:
    """Pictures with a bright dot in any of three places; one 0/1 label per place."""
    rng = np.random.default_rng(5)
    y = (rng.uniform(0, 1, (n, 3)) > 0.5).astype(np.uint8)
    y[0] = [1, 1, 1]  # a row with more than one label: 0/1 labels per image, not one-hot classes
    x = rng.uniform(0, 0.2, (n, 8, 8)).astype(np.float32)
    for k, (r, c) in enumerate([(1, 1), (4, 6), (6, 2)]):
        x[y[:, k] == 1, r, c] = 1.0
    path = folder / "labels.npz"
    np.savez(path, x_train=x, y_train=y, class_names=np.array(["top", "right", "bottom"]))
    return path


def _project(name: str, dataset: str, nodes: list[dict], edges: list[list[str]], **training) -> object:
    settings = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 1, "validation_split": 0.2,
                "seed": 0, **training}
    return project_from_dict({"format": "cnnstudio-project", "version": 1, "name": name,
                              "network": {"nodes": nodes, "edges": edges},
                              "dataset": {"name": dataset, "permute_pixels": None}, "training": settings})


def segmentation_project(dataset: str, *, classes: int = 3, shape=(16, 16, 1), **training) -> object:
    """Conv2D 8@3x3 -> Conv2D `classes`@1x1 softmax: a class for every pixel."""
    return _project("tiny-segmenter", dataset, [
        {"id": "input", "type": "Input", "params": {"shape": list(shape)}},
        {"id": "conv", "type": "Conv2D", "params": {"filters": 8, "kernel_size": 3, "padding": "same",
                                                    "activation": "relu"}},
        {"id": "out", "type": "Conv2D", "params": {"filters": classes, "kernel_size": 1, "activation": "softmax"}}],
        [["input", "conv"], ["conv", "out"]], **training)


def dense_project(dataset: str, units: int, activation: str | None, shape=(8, 8, 1), **training) -> object:
    """Conv2D 4@3x3 -> Flatten -> Dense(units, activation): for values or 0/1 labels."""
    out = {"units": units} if activation is None else {"units": units, "activation": activation}
    return _project("tiny-dense", dataset, [
        {"id": "input", "type": "Input", "params": {"shape": list(shape)}},
        {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
        {"id": "flat", "type": "Flatten", "params": {}},
        {"id": "out", "type": "Dense", "params": out}],
        [["input", "conv"], ["conv", "flat"], ["flat", "out"]], **training)
