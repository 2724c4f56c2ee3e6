"""Text of the training script's data code: one `load_data()` per dataset kind, and helpers.

Each `load_data()` returns `(x_train, y_train), (x_test, y_test)` with the raw images
(and targets: class labels, 0/1 labels, masks or values) CNN Studio would use; the helpers
split and prepare them exactly as CNN Studio's data pipeline does (stratified seeded
splits, value scaling, pixel shuffling, standardization measured on the training images,
masks resized and shuffled like their pictures).
"""

from __future__ import annotations

from pathlib import Path

SHAPES_SOURCE = Path(__file__).parent.parent / "core" / "drawn_shapes.py"

_KERAS_DATASETS = {
    "mnist": ("mnist", "MNIST: 60,000 training and 10,000 test digits"),
    "fashion-mnist": ("fashion_mnist", "Fashion-MNIST: 60,000 training and 10,000 test pictures of clothes"),
    "cifar10": ("cifar10", "CIFAR-10: 50,000 training and 10,000 test colour photos"),
    "cifar100": ("cifar100", "CIFAR-100: 50,000 training and 10,000 test colour photos of 100 kinds"),
}

_HOLD_OUT = '''
def hold_out_test(x, y):
    """Hold out TEST_FRACTION of each class (of the pictures, for masks and values) for testing, with
    seed 0, as CNN Studio does."""
    keep, take = stratified_split(strata(y), TEST_FRACTION, 0)
    return (x[keep], y[keep]), (x[take], y[take])
'''

_MNIST_SAMPLE = '''
def load_data():
    """The MNIST sample bundled with CNN Studio: 8,000 digits to train on, 2,000 to test.

    Without CNN Studio installed, the full MNIST from keras.datasets is used instead.
    """
    path = bundled_file("mnist-sample.npz")
    if path is None:
        print("note: CNN Studio's MNIST sample was not found; using MNIST from keras.datasets")
        return keras.datasets.mnist.load_data()
    with np.load(path, allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    return hold_out_test(x, y)


def bundled_file(name):
    """A file that comes with CNN Studio when it is installed, or None."""
    try:
        from importlib.resources import files

        package = Path(str(files("cnnstudio")))
    except (ImportError, TypeError):
        return None
    for folder in (package / "resources", package.parent / "resources"):
        if (folder / name).is_file():
            return folder / name
    return None
''' + _HOLD_OUT

_KERAS = '''
def load_data():
    """{doc}.

    Downloaded once by keras.datasets (then read from Keras's cache).
    """
    return keras.datasets.{module}.load_data()
'''

_GENERATED = '''
def load_data():
    """{doc}

    The training pictures follow SEED; the test pictures are always the same.
    """
    x_train, y_train = {draw}(2000, np.random.default_rng([SEED % 2**63, 1]))
    x_test, y_test = {draw}(500, np.random.default_rng([0x7E57, 2]))  # fixed, whatever SEED
    return (x_train, y_train), (x_test, y_test)


def balanced_labels(n, rng):
    return rng.permutation(np.arange(n) % 2)


def to_uint8(images, rng):
    """Add per-image Gaussian noise (std 0-0.1) and quantize to 0-255."""
    noise = rng.uniform(0.0, 0.1, size=(len(images), 1, 1)) * rng.standard_normal(images.shape)
    return np.round(np.clip(images + noise, 0.0, 1.0) * 255).astype(np.uint8)
'''

_DRAW_X_VS_O = '''
def draw_x_vs_o(n, rng, side=28):
    """n pictures (n, side, side) of an O (label 0) or an X (label 1), half each, anti-aliased."""
    labels = balanced_labels(n, rng)
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    scale = side / 28.0
    cy = side / 2 + rng.uniform(-4, 4, n) * scale
    cx = side / 2 + rng.uniform(-4, 4, n) * scale
    ry = rng.uniform(5, 9, n) * scale
    rx = ry * rng.uniform(0.75, 1.25, n)
    thickness = rng.uniform(1.5, 3.2, n) * scale
    brightness = rng.uniform(0.6, 1.0, n)
    dy = rows[None] - cy[:, None, None]
    dx = cols[None] - cx[:, None, None]
    ry3, rx3 = ry[:, None, None], rx[:, None, None]
    radial = np.sqrt((dx / rx3) ** 2 + (dy / ry3) ** 2)  # O: the gap to an ellipse, in pixels
    ring = np.abs(radial - 1.0) * np.minimum(rx3, ry3)
    # X: the distance to the nearer of the two diagonals
    cross = np.minimum(segment_distance(dx, dy, rx3, ry3), segment_distance(dx, dy, rx3, -ry3))
    distance = np.where(labels[:, None, None] == 1, cross, ring)
    ink = np.clip(thickness[:, None, None] / 2 + 0.5 - distance, 0.0, 1.0)
    ink = ink * brightness[:, None, None]
    return to_uint8(ink, rng), labels.astype(np.uint8)


def segment_distance(dx, dy, ex, ey):
    """Distance from (dx, dy) to the segment from (-ex, -ey) to (ex, ey)."""
    length_sq = ex**2 + ey**2
    t = np.clip((dx * ex + dy * ey) / length_sq, -1.0, 1.0)
    return np.hypot(dx - t * ex, dy - t * ey)
'''

_DRAW_STRIPES = '''
def draw_stripes(n, rng, side=28):
    """n pictures (n, side, side) of horizontal (0) or vertical (1) lines, half each."""
    labels = balanced_labels(n, rng)
    period = rng.integers(4, 9, n)  # 4..8 pixels from one line to the next
    thickness = np.minimum(rng.integers(1, 4, n), period - 2)  # 1..3, always a gap of 2+
    phase = rng.integers(0, 1 << 16, n) % period
    background = rng.uniform(0.0, 0.2, n)
    brightness = rng.uniform(0.6, 1.0, n)
    position = np.arange(side)
    on = ((position[None] - phase[:, None]) % period[:, None]) < thickness[:, None]
    profile = background[:, None] + on * (brightness - background)[:, None]
    vertical = np.broadcast_to(profile[:, None, :], (n, side, side))
    horizontal = np.broadcast_to(profile[:, :, None], (n, side, side))
    images = np.where(labels[:, None, None] == 1, vertical, horizontal)
    return to_uint8(images, rng), labels.astype(np.uint8)
'''

_SHAPES = '''
def load_data():
    """{doc}

    The training pictures follow SEED; the test pictures are always the same.
    """
    x_train, y_train = draw_shapes(2000, np.random.default_rng([SEED % 2**63, 1]))
    x_test, y_test = draw_shapes(500, np.random.default_rng([0x7E57, 2]))  # fixed, whatever SEED
    return (x_train, y_train), (x_test, y_test)
'''

_FOLDER_MASKS = '''
def load_data():
    """Your pictures in DATA_PATH/images and their masks (the same names) in DATA_PATH/masks, read at the
    network's input size: pictures stretched smoothly, masks to the nearest pixel. Needs Pillow.

    TEST_FRACTION of the pictures is held out for testing, as CNN Studio does.
    """
    pictures, masks = listed(DATA_PATH / "images"), listed(DATA_PATH / "masks")
    x = np.stack([read_picture(path) for path in pictures.values()])
    y = np.stack([read_mask(masks[key]) for key in pictures])
    return hold_out_test(x, y)


def listed(folder):
    """Picture files under folder (hidden ones left out) by their name without extension, sorted."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder)
        if path.is_file() and path.suffix.lower() in PICTURE_TYPES and not any(
                part.startswith(".") for part in name.parts):
            found.setdefault(name.with_suffix("").as_posix(), path)
    return found


def read_picture(path):
    """One picture as uint8 (height, width, channels): upright, on white, stretched to the input size."""
    from PIL import Image, ImageOps

    height, width, channels = INPUT_SHAPE
    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft("L" if channels == 1 else "RGB", (width, height))
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img.alpha_composite(rgba)
        img = img.convert("L" if channels == 1 else "RGB")
        if img.size != (width, height):
            img = img.resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8).reshape(height, width, channels)


def read_mask(path):
    """One mask as class numbers (a palette PNG's indices, a grey PNG's values) at the input size."""
    from PIL import Image

    with Image.open(path) as img:
        if img.mode in ("RGB", "RGBA"):  # grey values stored in colour: every channel holds the class
            values = np.asarray(img.convert("RGB"))[..., 0]
        elif img.mode in ("LA", "La", "PA"):
            values = np.asarray(img.getchannel(0))
        else:
            values = np.asarray(img)
    return resize_masks(values.astype(np.int64)[None], INPUT_SHAPE[:2])[0]


PICTURE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
''' + _HOLD_OUT

_FOLDER = '''
def load_data():
    """Your pictures in DATA_PATH, one subfolder per class, read at the network's input size.

    TEST_FRACTION of each class is held out for testing, as CNN Studio does.
    """
    mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[INPUT_SHAPE[2]]
    pictures = keras.utils.image_dataset_from_directory(
        DATA_PATH,
        labels="inferred",
        color_mode=mode,
        image_size=INPUT_SHAPE[:2],
        batch_size=None,
        shuffle=False,
    )
    pairs = list(pictures.as_numpy_iterator())
    x = np.stack([image for image, _ in pairs])
    y = np.array([label for _, label in pairs])
    return hold_out_test(x, y)
''' + _HOLD_OUT

_NPZ = '''
def load_data():
    """Your arrays in DATA_PATH: x_train and y_train, and x_test and y_test when it has them.

    Without a test split, TEST_FRACTION of each class is held out for testing, as CNN Studio does.
    """
    with np.load(DATA_PATH, allow_pickle=False) as data:
        x_train, y_train = data["x_train"], data["y_train"]
        if "x_test" in data.files:
            return (x_train, y_train), (data["x_test"], data["y_test"])
    return hold_out_test(x_train, y_train)
''' + _HOLD_OUT

COMMON_HELPERS = '''
def as_labels(y):
    """Integer class labels as a flat array."""
    return np.asarray(y).reshape(-1).astype(np.int64)


def as_targets(y):
    """Targets as the task learns them: class numbers, masks (N, H, W), or rows of numbers (N, K)."""
    if TASK in ("classification", "binary"):
        return as_labels(y)
    y = np.asarray(y)
    if TASK == "segmentation":
        return y[..., 0] if y.ndim == 4 else y
    return y.astype(np.float32).reshape(len(y), -1)


def strata(y):
    """What a split keeps in proportion: the classes of class labels; other targets are split at random."""
    return as_labels(y) if DATA_TASK == "classification" else np.zeros(len(y), np.int64)


def resize_masks(masks, size):
    """(N, h, w) masks stretched to size by taking the nearest pixel's class (pixel centres matched)."""
    h, w = masks.shape[1:3]
    if (h, w) == tuple(size):
        return masks
    rows = np.minimum(((np.arange(size[0]) + 0.5) * h / size[0]).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * w / size[1]).astype(np.int64), w - 1)
    return masks[:, rows][:, :, cols]


def prepare_masks(masks):
    """Masks at the input size, their pixels shuffled as the pictures' are."""
    masks = resize_masks(masks, INPUT_SHAPE[:2])
    if PERMUTE_PIXELS is not None:
        order = np.random.default_rng(PERMUTE_PIXELS).permutation(INPUT_SHAPE[0] * INPUT_SHAPE[1])
        masks = masks.reshape(len(masks), -1)[:, order].reshape(len(masks), *INPUT_SHAPE[:2])
    return masks


def stratified_split(labels, fraction, seed):
    """Indices (kept, taken): `fraction` of each class taken, seeded (as CNN Studio splits)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    total = int(round(fraction * len(labels)))
    exact = counts * (total / max(len(labels), 1))
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: total - quota.sum()]:
        quota[i] += 1
    quota = np.minimum(quota, counts - 1)
    kept, taken = [], []
    for label, n_take in zip(classes, quota, strict=True):
        members = rng.permutation(np.flatnonzero(labels == label))
        taken.append(members[:n_take])
        kept.append(members[n_take:])
    kept = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    taken = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
    return rng.permutation(kept), rng.permutation(taken)


def value_max(x):
    """The value that means full brightness: 255 for 8-bit images, 1 for floats in [0, 1]."""
    if x.dtype == np.uint8 or x.size == 0:
        return 255.0
    top = float(np.max(x))
    if np.issubdtype(x.dtype, np.integer):
        return 255.0 if top <= 255 else float(np.iinfo(x.dtype).max)
    return 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else top


def fit_to_input(x):
    """float32 (N, H, W, C) images with the network's channels and size."""
    x = np.asarray(x, np.float32)
    if x.ndim == 3:
        x = x[..., None]
    have, want = x.shape[-1], INPUT_SHAPE[2]
    if have != want and want == 1:
        grey = np.array([[0.2989], [0.587], [0.114]], np.float32)  # ITU-R 601 weights
        x = x[..., :1] if have == 2 else x[..., :3] @ grey
    elif have != want and want == 3:
        x = np.repeat(x[..., :1], 3, axis=-1) if have in (1, 2) else x[..., :3]
    if x.shape[1:3] != INPUT_SHAPE[:2]:
        size = INPUT_SHAPE[:2]
        resized = keras.ops.image.resize(x, size, interpolation="bilinear", antialias=True)
        x = np.asarray(keras.ops.convert_to_numpy(resized), np.float32)
    return x


def prepare(x_train, x_val, x_test):
    """Raw images -> network inputs, as CNN Studio prepares them."""
    top = max(value_max(x_train), value_max(x_test))
    x_train, x_val, x_test = (fit_to_input(x) for x in (x_train, x_val, x_test))
    mean = std = None
    if NORMALIZATION == "standardize":
        scaled = x_train.astype(np.float64) / top
        mean = scaled.mean(axis=(0, 1, 2)).astype(np.float32)
        std = scaled.std(axis=(0, 1, 2)).astype(np.float32)
        std[std < 1e-6] = 1.0
    order = None
    if PERMUTE_PIXELS is not None:
        order = np.random.default_rng(PERMUTE_PIXELS).permutation(INPUT_SHAPE[0] * INPUT_SHAPE[1])
    prepared = []
    for x in (x_train, x_val, x_test):
        if order is not None:
            n = len(x)
            x = x.reshape(n, -1, INPUT_SHAPE[2])[:, order].reshape(n, *INPUT_SHAPE)
        if NORMALIZATION in ("scale", "standardize"):
            x = x / np.float32(top)
        if NORMALIZATION == "standardize":
            x = (x - mean) / std
        prepared.append(x.astype(np.float32))
    return prepared
'''


def shapes_source() -> str:
    """The drawing code of `core/drawn_shapes.py`, as it is (its docstring and import left out)."""
    text = SHAPES_SOURCE.read_text(encoding="utf-8")
    return text[text.index("import numpy as np\n") + len("import numpy as np\n"):]


def data_section(kind: str, path: Path | None, name: str, segmentation: bool = False) -> tuple[str, str, bool]:
    """(one-line description, the load_data code, whether it needs pathlib.Path) for a dataset;
    `segmentation`: a folder of images/ and masks/."""
    if kind == "mnist-sample":
        return ("the 10,000-digit MNIST sample bundled with CNN Studio (8,000 for training, 2,000 for testing).",
                _MNIST_SAMPLE, True)
    if kind in _KERAS_DATASETS:
        module, doc = _KERAS_DATASETS[kind]
        return doc + ".", _KERAS.format(doc=doc, module=module), False
    if kind == "x-vs-o":
        doc = "X versus O pictures (28x28) drawn as CNN Studio draws them: 2,000 to train, 500 to test."
        return doc, _GENERATED.format(doc=doc, draw="draw_x_vs_o") + _DRAW_X_VS_O, False
    if kind == "stripes":
        doc = "Horizontal or vertical stripes (28x28) drawn like CNN Studio: 2,000 to train, 500 to test."
        return doc, _GENERATED.format(doc=doc, draw="draw_stripes") + _DRAW_STRIPES, False
    if kind == "shapes":
        doc = "Shapes (64x64) and their masks drawn as CNN Studio draws them: 2,000 to train, 500 to test."
        return doc, _SHAPES.format(doc=doc) + shapes_source(), False
    if kind == "folder" and segmentation:
        return f"your pictures in {path}/images and their masks in {path}/masks.", _FOLDER_MASKS, True
    if kind == "folder":
        return f"your pictures in {path}, one subfolder per class.", _FOLDER, True
    return f"your arrays in {path}.", _NPZ, True
