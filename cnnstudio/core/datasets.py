"""What CNN Studio knows about its datasets, without loading them or importing TensorFlow.

Used by `cnnstudio datasets`, by project validation and by the GUI's dataset chooser.
The names are a fixed contract (CONTRACTS.md sections 3 and 6): `mnist-sample`, `mnist`,
`fashion-mnist`, `cifar10`, `cifar100`, `x-vs-o`, `stripes`, `shapes`, `folder:PATH`,
`npz:PATH`. Each dataset's targets imply a task (`core/tasks.py`): class labels, labels per
image (multi-label), masks (segmentation: `shapes`, a folder with `images/` and `masks/`,
an npz whose `y_train` is N x H x W) or values (regression: an npz with float `y_train`).
The loaders themselves live in `cnnstudio.ml.data`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.drawn_shapes import SHAPE_CLASSES, SHAPES_SIDE
from cnnstudio.core.errors import DatasetError
from cnnstudio.core.targets import mask_array, targets_task, value_array
from cnnstudio.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION, SEGMENTATION

FIXED_NAMES = ("mnist-sample", "mnist", "fashion-mnist", "cifar10", "cifar100", "x-vs-o", "stripes", "shapes")
PATH_PREFIXES = ("folder", "npz")

DIGITS = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR100_CLASSES = tuple("""
apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch
crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo
keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse
mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy
porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper
snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television
tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm
""".split())
X_VS_O_CLASSES = ("O", "X")  # label 0 = O, label 1 = X (alphabetical, like folder classes)
STRIPES_CLASSES = ("horizontal", "vertical")  # label 0 = horizontal lines, 1 = vertical

# When a dataset brings no test split of its own (folders, npz without x_test),
# this share of every class is held out as the test split, always with this seed,
# so the test images stay the same whatever training seed is chosen.
CARVED_TEST_FRACTION = 0.2
TEST_SPLIT_SEED = 0

# A folder dataset holding exactly these two subfolders is a segmentation dataset: pictures in
# images/, and in masks/ a mask of the same name (any image extension) for each; class names, one
# per line, may be given in classes.txt.
SEGMENTATION_FOLDERS = ("images", "masks")
CLASS_NAMES_FILE = "classes.txt"


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset as the user sees it in a list: name, what it is, what its images look like.

    `input_shape` is (height, width, channels) as loaded by default, or None where it is
    only known after loading (image folders). `num_train` counts training plus validation
    images (validation is carved from it); `download_mb` is the size of a first download.
    `task` is what the targets imply (classification, multilabel, segmentation, regression);
    `target_shape` is one example's target: () a class, (K,) labels, (H, W) a mask, (D,) values.
    """

    name: str
    title: str
    description: str
    source: str  # "bundled" | "download" | "generated" | "folder" | "npz"
    input_shape: tuple[int, ...] | None
    num_classes: int | None
    class_names: tuple[str, ...] | None
    num_train: int | None = None
    num_test: int | None = None
    download_mb: float | None = None
    task: str = CLASSIFICATION
    target_shape: tuple[int, ...] | None = ()


_FIXED = {
    info.name: info
    for info in (
        DatasetInfo("mnist-sample", "MNIST sample (bundled)",
                    "10,000 small pictures of handwritten digits 0-9, shipped with CNN Studio so it works offline.",
                    "bundled", (28, 28, 1), 10, DIGITS, 8000, 2000),
        DatasetInfo("mnist", "MNIST",
                    "70,000 small pictures of handwritten digits 0-9, the classic first dataset.",
                    "download", (28, 28, 1), 10, DIGITS, 60000, 10000, 11.5),
        DatasetInfo("fashion-mnist", "Fashion-MNIST",
                    "70,000 small grey pictures of clothes and shoes in 10 kinds, harder than digits.",
                    "download", (28, 28, 1), 10, FASHION_MNIST_CLASSES, 60000, 10000, 30.9),
        DatasetInfo("cifar10", "CIFAR-10",
                    "60,000 tiny colour photos of 10 kinds of things, such as cats, ships and trucks.",
                    "download", (32, 32, 3), 10, CIFAR10_CLASSES, 50000, 10000, 170.5),
        DatasetInfo("cifar100", "CIFAR-100",
                    "60,000 tiny colour photos of 100 kinds of things; only 500 training photos per kind.",
                    "download", (32, 32, 3), 100, CIFAR100_CLASSES, 50000, 10000, 169.0),
        DatasetInfo("x-vs-o", "X versus O (generated)",
                    "Drawn X and O shapes of varying size, position and thickness: tell them apart.",
                    "generated", (28, 28, 1), 2, X_VS_O_CLASSES, 2000, 500),
        DatasetInfo("stripes", "Stripes (generated)",
                    "Pictures of horizontal or vertical lines: one well-chosen 5x5 filter is enough to tell them apart.",
                    "generated", (28, 28, 1), 2, STRIPES_CLASSES, 2000, 500),
        DatasetInfo("shapes", "Shapes (generated, segmentation)",
                    "Circles, squares and triangles on a noisy background, each picture with its mask: "
                    "find the class of every pixel.",
                    "generated", (SHAPES_SIDE, SHAPES_SIDE, 3), len(SHAPE_CLASSES), SHAPE_CLASSES, 2000, 500,
                    task=SEGMENTATION, target_shape=(SHAPES_SIDE, SHAPES_SIDE)),
    )
}

_FORMS = (
    DatasetInfo("folder:PATH", "Your image folder",
                "Your own pictures: one subfolder per class, with PNG, JPEG, BMP or GIF files inside; or, "
                "for segmentation, images/ and masks/ with a mask of the same name for each picture.",
                "folder", None, None, None, target_shape=None),
    DatasetInfo("npz:PATH", "Your NumPy file",
                "Your own arrays in a .npz file: x_train and y_train, optionally x_test and y_test. y_train "
                "holds classes (N), 0/1 labels (N x K), masks (N x H x W) or values to predict (floats).",
                "npz", None, None, None, target_shape=None),
)


def list_datasets() -> list[DatasetInfo]:
    """Every dataset name CNN Studio accepts, plus the two `folder:`/`npz:` forms."""
    return [*_FIXED.values(), *_FORMS]


def valid_names_text() -> str:
    """The valid names in one line, for error messages."""
    return ", ".join(FIXED_NAMES) + ", folder:PATH or npz:PATH"


def parse_dataset_name(name: str) -> tuple[str, Path | None]:
    """Split a dataset name into (kind, path): ("mnist", None) or ("folder", Path(...)).

    Fixed names are matched without regard to case; a path may be relative to the
    current folder and may start with `~`.
    """
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"no dataset name given; use one of {valid_names_text()}")
    text = name.strip()
    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in PATH_PREFIXES:
        rest = rest.strip()
        if not rest:
            raise DatasetError(f"dataset '{text}' has no path after '{prefix}:'; write {prefix}:PATH")
        return prefix.lower(), Path(rest).expanduser()
    if text.lower() in _FIXED:
        return text.lower(), None
    raise DatasetError(f"unknown dataset '{text}'; use one of {valid_names_text()}")


def is_segmentation_folder(folder: Path) -> bool:
    """Whether an image folder holds pictures and masks (images/ and masks/) rather than classes."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    subfolders = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return subfolders == set(SEGMENTATION_FOLDERS)


def segmentation_class_names(folder: Path) -> tuple[str, ...] | None:
    """The class names in a segmentation folder's classes.txt (one per line, class 0 first), or None."""
    path = Path(folder) / CLASS_NAMES_FILE
    if not path.is_file():
        return None
    try:
        names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read '{path}' ({exc}); write one class name per line as UTF-8 text") from None
    if len(names) < 2:
        raise DatasetError(f"'{path}' names {len(names)} class(es); give one name per line, the background "
                           "(class 0) first, at least two")
    return names


def folder_class_names(folder: Path) -> tuple[str, ...]:
    """Class names of an image folder: its sorted subfolder names (hidden ones skipped).

    Raises DatasetError when the folder is missing, not a folder, or has fewer than two
    class subfolders. Class index i is the i-th name in this order.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"image folder '{folder}' does not exist; give a folder with one subfolder per class")
    if not folder.is_dir():
        raise DatasetError(f"'{folder}' is not a folder; give a folder with one subfolder per class")
    names = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if not names:
        raise DatasetError(f"image folder '{folder}' has no subfolders; put each class's images "
                           "in its own subfolder (e.g. cats/ and dogs/)")
    if len(names) == 1:
        raise DatasetError(f"image folder '{folder}' has only one class ('{names[0]}'); "
                           "a classifier needs at least two subfolders, one per class")
    return names


def _npy_header(archive: zipfile.ZipFile, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array in a .npz, read from its header only."""
    with archive.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    return tuple(int(s) for s in shape), dtype


def _npz_info(path: Path, name: str) -> DatasetInfo:
    if not path.is_file():
        raise DatasetError(f"NumPy file '{path}' does not exist; give a .npz file with x_train and y_train")
    try:
        with zipfile.ZipFile(path) as archive:
            keys = {n[:-4] for n in archive.namelist() if n.endswith(".npy")}
            if not {"x_train", "y_train"} <= keys:
                raise DatasetError(f"'{path}' has arrays {sorted(keys)}; it needs x_train and y_train "
                                   "(and optionally x_test and y_test)")
            x_shape, _ = _npy_header(archive, "x_train")
            test_shape = _npy_header(archive, "x_test")[0] if "x_test" in keys else None
        with np.load(path, allow_pickle=False) as data:
            labels = [(np.asarray(data[k]), k) for k in ("y_train", "y_test") if k in data.files]
            names = tuple(str(s) for s in data["class_names"]) if "class_names" in data.files else None
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read '{path}' as a NumPy .npz file ({exc})") from None
    if len(x_shape) not in (3, 4):
        raise DatasetError(f"x_train in '{path}' has shape {list(x_shape)}; it must be (N, H, W) or (N, H, W, C)")
    shape = x_shape[1:] if len(x_shape) == 4 else (*x_shape[1:], 1)
    task, target_shape, names = npz_targets(labels, str(path), shape[:2], names)
    if test_shape is not None:
        num_train, num_test = x_shape[0], test_shape[0]
    else:
        num_test = round(x_shape[0] * CARVED_TEST_FRACTION)
        num_train = x_shape[0] - num_test
    return DatasetInfo(name, f"NumPy file {path.name}", f"Arrays from {path}.", "npz",
                       shape, None if names is None else len(names), names, num_train, num_test,
                       task=task, target_shape=target_shape)


def npz_targets(labels: list[tuple[np.ndarray, str]], where: str, image_size: tuple[int, ...],
                names: tuple[str, ...] | None) -> tuple[str, tuple[int, ...], tuple[str, ...] | None]:
    """(task, one example's target shape, class names or None for values) of an npz file's y arrays.

    `labels`: (array, its key) for y_train and y_test when present. DatasetError naming the array
    when the two disagree, masks are not the images' size, or a value cannot be a target.
    """
    tasks = [targets_task(y, key, where) for y, key in labels]
    if len(set(tasks)) > 1:
        raise DatasetError(f"in '{where}' y_train holds {tasks[0]} targets but y_test holds {tasks[1]} targets; "
                           "both must be of one kind")
    task = tasks[0]
    if task == REGRESSION:
        widths = {int(np.prod(y.shape[1:])) for y, _ in labels}
        if len(widths) > 1:
            raise DatasetError(f"in '{where}' y_train and y_test hold different numbers of values per image")
        for y, key in labels:
            value_array(y, key, where)
        return task, (widths.pop(),), None
    if task == MULTILABEL:
        widths = {y.shape[1] for y, _ in labels}
        if len(widths) > 1:
            raise DatasetError(f"in '{where}' y_train and y_test have different numbers of labels")
        count = widths.pop()
        if names is not None and len(names) != count:
            raise DatasetError(f"'{where}' has {count} labels per image but {len(names)} class_names")
        return task, (count,), names or tuple(str(i) for i in range(count))
    if task == SEGMENTATION:
        top = -1
        for y, key in labels:
            masks = mask_array(y, key, where)
            if tuple(masks.shape[1:]) != tuple(image_size):
                raise DatasetError(f"{key} in '{where}' holds masks of {_shape_text(masks.shape[1:])} but the "
                                   f"images are {_shape_text(image_size)}; each mask must be the size of its image")
            top = max(top, int(masks.max(initial=0)))
        if names is not None and top >= len(names):
            raise DatasetError(f"'{where}' has class {top} in a mask but only {len(names)} class_names; "
                               "mask values must be 0 .. number of classes - 1")
        return task, tuple(image_size), names or tuple(str(i) for i in range(max(top + 1, 2)))
    vectors = [label_vector(y, key, where) for y, key in labels]
    if names is None:
        top = max((int(y.max()) for y in vectors if y.size), default=-1)
        names = tuple(str(i) for i in range(top + 1))
    return CLASSIFICATION, (), names


MAX_CLASSES = 100_000  # more classes than any dataset CNN Studio is meant for (ImageNet-21k has 21,841)


def label_vector(y: np.ndarray, key: str, where: str) -> np.ndarray:
    """(N,), (N, 1) or one-hot (N, K) labels as an (N,) vector of class numbers; DatasetError, naming the
    array, for text, NaN, fractions, negative numbers, other shapes or labels beyond MAX_CLASSES."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
            raise DatasetError(f"{key} in '{where}' must hold whole class numbers 0, 1, 2, ... or one-hot rows, "
                               f"not {y.dtype} values")
        if y.shape[1] > MAX_CLASSES:
            raise DatasetError(f"{key} in '{where}' has {y.shape[1]:,} one-hot columns; CNN Studio handles at "
                               f"most {MAX_CLASSES:,} classes")
        y = y.argmax(axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"{key} in '{where}' has shape {list(np.shape(y))}; labels must be (N,) class numbers "
                           "or (N, K) one-hot")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating) or y.dtype == np.bool_):
        raise DatasetError(f"{key} in '{where}' must hold whole class numbers 0, 1, 2, ..., not {y.dtype} values")
    if y.size:
        if np.issubdtype(y.dtype, np.floating) and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise DatasetError(f"{key} in '{where}' must hold whole class numbers 0, 1, 2, ...; it holds NaN, "
                               "infinite or fractional values")
        low, high = y.min(), y.max()
        if low < 0:
            raise DatasetError(f"{key} in '{where}' has the label {low}; labels are class numbers from 0")
        if high >= MAX_CLASSES:
            raise DatasetError(f"{key} in '{where}' has the label {high:.0f}; labels are 0 .. number of classes - 1, "
                               f"and CNN Studio handles at most {MAX_CLASSES:,} classes")
    return y.astype(np.int64)


def dataset_info(name: str) -> DatasetInfo:
    """What is known about one dataset name without loading its images.

    For `folder:PATH` the class names are the sorted subfolder names and the image
    shape is None (known only after loading); a folder with `images/` and `masks/` is a
    segmentation dataset (class names from its classes.txt, else known after loading). For
    `npz:PATH` the shapes come from the array headers, the task and classes from the targets. Unknown names, missing files and
    unusable folders raise DatasetError.
    """
    kind, path = parse_dataset_name(name)
    if path is None:
        return _FIXED[kind]
    if kind == "folder" and is_segmentation_folder(path):
        names = segmentation_class_names(path)
        return DatasetInfo(f"folder:{path}", f"Image folder {path.name}", f"Your images and masks in {path}.",
                           "folder", None, None if names is None else len(names), names, task=SEGMENTATION,
                           target_shape=None)
    if kind == "folder":
        names = folder_class_names(path)
        return DatasetInfo(f"folder:{path}", f"Image folder {path.name}", f"Your images in {path}.",
                           "folder", None, len(names), names)
    return _npz_info(path, f"npz:{path}")


def _shape_text(shape: Sequence[int | None]) -> str:
    return "x".join("?" if s is None else str(s) for s in shape)


def check_input_compatibility(
    dataset_shape: Sequence[int],
    network_input_shape: Sequence[int | None],
    num_classes: int | None = None,
    network_outputs: int | None = None,
    *,
    dataset_name: str | None = None,
) -> list[str]:
    """Plain sentences saying why a network cannot be trained on a dataset; [] when it can.

    `dataset_shape` is (H, W, C); `network_input_shape` is the Input layer's shape
    without the batch axis (None = any size). `network_outputs` is the number of units
    of the output layer; one sigmoid unit for a two-class dataset is accepted.
    """
    data = tuple(int(s) for s in dataset_shape)
    net = tuple(None if s is None else int(s) for s in network_input_shape)
    what = f"'{dataset_name}'" if dataset_name else "the dataset"
    problems: list[str] = []
    if len(net) != len(data):
        size = int(np.prod(data))
        if len(net) == 1:
            problems.append(
                f"the network expects flat vectors of {net[0]} values but {what} has "
                f"{_shape_text(data)} images; set the Input shape to {list(data)} and add a Flatten "
                f"layer after it")
        else:
            problems.append(
                f"the network expects inputs of shape {_shape_text(net)} but {what} has "
                f"{_shape_text(data)} images ({size} values each); set the Input shape to {list(data)}")
    else:
        spatial_ok = all(n is None or n == d for n, d in zip(net[:-1], data[:-1], strict=True))
        channels_ok = net[-1] is None or net[-1] == data[-1]
        if not (spatial_ok and channels_ok):
            loading = []
            if not spatial_ok and None not in net[:-1]:
                loading.append(f"image size {_shape_text(net[:-1])}")
            if not channels_ok and net[-1] in (1, 3):
                loading.append(f"color mode '{'grayscale' if net[-1] == 1 else 'rgb'}'")
            fix = f"set the Input shape to {list(data)}"
            if len(loading) == (not spatial_ok) + (not channels_ok):
                fix += ", or load the dataset with " + " and ".join(loading)
            problems.append(f"the network expects {_shape_text(net)} images but {what} has "
                            f"{_shape_text(data)}; {fix}")
    if num_classes is not None and network_outputs is not None and network_outputs != num_classes:
        if not (num_classes == 2 and network_outputs == 1):
            problems.append(
                f"the network's output layer has {network_outputs} units but {what} has "
                f"{num_classes} classes; set the units of the last layer to {num_classes}")
    return problems
