"""Datasets through `load_dataset`: splits, determinism, transforms, user data, offline downloads."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.datasets import dataset_info
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data import Dataset, downloads, load_dataset

from ..http_server import serving


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_dataset("mnist-sample")


# -- mnist-sample ------------------------------------------------------------------------
def test_mnist_sample_split_sizes(sample):
    assert sample.num_train + sample.num_validation == 8000
    assert sample.num_test == 2000
    assert sample.num_validation == 800
    assert sample.input_shape == (28, 28, 1) and sample.num_classes == 10
    assert sample.class_names == tuple("0123456789")


def test_mnist_sample_is_stratified(sample):
    train = sample.class_counts("train") + sample.class_counts("validation")
    test = sample.class_counts("test")
    overall = train + test
    share = overall / overall.sum()
    for counts in (train, test, sample.class_counts("validation")):
        assert np.all(np.abs(counts / counts.sum() - share) <= 0.01)
    assert np.all(np.abs(test - share * 2000) <= 1)
    assert np.all(np.abs(sample.class_counts("validation") - train * 0.1) <= 1)


def test_mnist_sample_is_deterministic_and_test_split_ignores_seed(sample):
    again = load_dataset("mnist-sample")
    other = load_dataset("mnist-sample", seed=5)
    x, y = sample.validation_arrays()
    x2, y2 = again.validation_arrays()
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(other.validation_arrays()[1], y)
    assert np.array_equal(other.test_arrays()[0], sample.test_arrays()[0])
    assert other.num_validation == 800


def test_mnist_sample_values_and_labels(sample):
    x, y = sample.train_arrays()
    assert x.dtype == np.float32 and x.shape == (7200, 28, 28, 1)
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.min() == 0 and y.max() == 9
    images, labels = next(iter(sample.train(64)))
    assert images.shape == (64, 28, 28, 1) and images.dtype.name == "float32"
    assert labels.shape == (64,) and 0 <= int(labels.numpy().min()) and int(labels.numpy().max()) <= 9


def test_validation_split_zero_and_bad_values():
    whole = load_dataset("mnist-sample", validation_split=0.0)
    assert (whole.num_train, whole.num_validation) == (8000, 0)
    assert list(whole.validation(32)) == []
    quarter = load_dataset("mnist-sample", validation_split=0.25)
    assert (quarter.num_train, quarter.num_validation) == (6000, 2000)
    for bad in (1.0, -0.1, "lots"):
        with pytest.raises(DatasetError, match="validation_split"):
            load_dataset("mnist-sample", validation_split=bad)
    with pytest.raises(DatasetError, match="normalization"):
        load_dataset("mnist-sample", normalization="minmax")
    with pytest.raises(DatasetError, match="image size"):
        load_dataset("mnist-sample", image_size=(0, 28))


def test_batches_shuffle_repeatably_and_one_hot(sample):
    first = next(iter(sample.train(32, seed=3)))[1].numpy()
    again = next(iter(sample.train(32, seed=3)))[1].numpy()
    ordered = next(iter(sample.train(32, shuffle=False)))[1].numpy()
    assert np.array_equal(first, again)
    assert np.array_equal(ordered, sample.labels("train")[:32])
    _, hot = next(iter(sample.validation(16, one_hot=True)))
    assert hot.shape == (16, 10)
    assert np.array_equal(hot.numpy().argmax(axis=1), sample.labels("validation")[:16])
    assert sum(int(b[1].shape[0]) for b in sample.test(500)) == 2000


def test_samples_are_repeatable_previews(sample):
    x, y = sample.samples(16, split="test", seed=1)
    x2, y2 = sample.samples(16, split="test", seed=1)
    assert x.shape == (16, 28, 28, 1) and x.dtype == np.float32
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert len(sample.samples(10_000, split="validation")[1]) == 800


def test_permute_pixels_same_permutation_everywhere(sample):
    shuffled = load_dataset("mnist-sample", permute_pixels=7)
    perm = shuffled.pixel_permutation
    assert perm is not None and sorted(perm) == list(range(784))
    assert not np.array_equal(perm, np.arange(784))
    for split in ("train", "test"):
        plain, labels = sample.arrays(split)
        mixed, labels2 = shuffled.arrays(split)
        assert np.array_equal(labels, labels2)
        assert np.array_equal(mixed.reshape(len(mixed), 784), plain.reshape(len(plain), 784)[:, perm])
    batch = next(iter(shuffled.test(8)))[0].numpy()
    assert np.array_equal(batch, shuffled.test_arrays()[0][:8])
    assert np.array_equal(load_dataset("mnist-sample", permute_pixels=7).pixel_permutation, perm)
    assert sample.pixel_permutation is None


def test_standardize_uses_training_statistics():
    data = load_dataset("mnist-sample", normalization="standardize")
    x, _ = data.train_arrays()
    assert abs(float(x.mean())) < 1e-3 and abs(float(x.std()) - 1.0) < 1e-3
    raw = load_dataset("mnist-sample", normalization="none").test_arrays()[0]
    assert raw.max() == 255.0


def test_resize_and_color_mode_for_array_data(sample):
    big = load_dataset("mnist-sample", image_size=(32, 32), color_mode="rgb")
    assert big.input_shape == (32, 32, 3)
    images, _ = next(iter(big.train(4)))
    assert images.shape == (4, 32, 32, 3)
    x, _ = big.samples(2)
    assert np.allclose(x[..., 0], x[..., 2]) and 0.0 <= x.min() and x.max() <= 1.0
    prepared = sample.prepare(np.full((1, 56, 56), 255, np.uint8))
    assert prepared.shape == (1, 28, 28, 1) and np.allclose(prepared, 1.0)


# -- generated ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x-vs-o", "stripes"])
def test_generated_are_deterministic_balanced_and_seeded(name):
    a = load_dataset(name, seed=1)
    b = load_dataset(name, seed=1)
    c = load_dataset(name, seed=2)
    assert a.input_shape == (28, 28, 1) and a.class_names == dataset_info(name).class_names
    assert a.num_train + a.num_validation == 2000 and a.num_test == 500
    assert np.array_equal(a.train_arrays()[0], b.train_arrays()[0])
    assert not np.array_equal(a.train_arrays()[0], c.train_arrays()[0])
    assert np.array_equal(a.test_arrays()[0], c.test_arrays()[0])
    assert list(a.class_counts("train") + a.class_counts("validation")) == [1000, 1000]
    assert list(a.class_counts("test")) == [250, 250]
    x, _ = a.train_arrays()
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.1


def test_stripes_learnable_by_one_5x5_filter():
    import keras

    keras.utils.set_random_seed(0)
    data = load_dataset("stripes")
    model = keras.Sequential([
        keras.Input(data.input_shape),
        keras.layers.Conv2D(1, 5),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.train(32), epochs=3, verbose=0, shuffle=False)  # data.train() shuffles
    _, accuracy = model.evaluate(data.test(250), verbose=0)
    assert accuracy >= 0.9


# -- folder ------------------------------------------------------------------------------
def _png(path, value, size=(8, 6), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode == "L" else (value, 255 - value, 0)
    Image.new(mode, size, color).save(path)


def test_folder_dataset_streams_and_skips_corrupt_files(tmp_path):
    for i in range(6):
        _png(tmp_path / "cat" / f"c{i}.png", 10 * i)
        _png(tmp_path / "dog" / f"d{i}.png", 200 + 5 * i)
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a picture")
    (tmp_path / "dog" / "notes.txt").write_text("hello")
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"\0")
    data = load_dataset(f"folder:{tmp_path}", validation_split=0.2)
    assert data.class_names == ("cat", "dog")
    assert data.input_shape == (6, 8, 1)  # (height, width) of the first image, grey
    assert data.num_train + data.num_validation + data.num_test == 12
    assert data.num_test == 2 and list(data.class_counts("test")) == [1, 1]
    assert any("broken.png" in w for w in data.warnings)
    assert any("notes.txt" in w for w in data.warnings)
    assert not any("DS_Store" in w for w in data.warnings)
    batches = list(data.train(4))
    assert sum(int(x.shape[0]) for x, _ in batches) == data.num_train
    x, y = data.test_arrays()
    assert x.shape == (2, 6, 8, 1) and x.dtype == np.float32
    assert np.allclose(x[y == 1], 1.0, atol=0.25) and np.all(x[y == 0] < 0.25)


def test_folder_dataset_sizes_colour_and_resize(tmp_path):
    for cls in ("a", "b"):
        for i in range(3):
            _png(tmp_path / cls / f"{i}.png", 40 * i, size=(300, 150), mode="RGB")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.input_shape == (64, 128, 3)  # longer side capped at 128, aspect kept
    small = load_dataset(f"folder:{tmp_path}", image_size=(16, 16), color_mode="grayscale")
    assert small.input_shape == (16, 16, 1)
    images, _ = next(iter(small.train(6)))
    assert images.shape == (small.num_train, 16, 16, 1)


def test_folder_dataset_problems(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no subfolders"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    _png(tmp_path / "one" / "only" / "a.png", 0)
    with pytest.raises(DatasetError, match="only one class"):
        load_dataset(f"folder:{tmp_path / 'one'}")
    _png(tmp_path / "two" / "a" / "a.png", 0)
    (tmp_path / "two" / "b").mkdir()
    (tmp_path / "two" / "b" / "bad.jpg").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="'b'.*no readable"):
        load_dataset(f"folder:{tmp_path / 'two'}")


# -- npz ---------------------------------------------------------------------------------
def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (60, 5, 7), dtype=np.uint8)
    y_train = np.arange(60) % 3
    x_test = rng.integers(0, 256, (9, 5, 7), dtype=np.uint8)
    y_test = np.arange(9) % 3
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_dataset(f"npz:{path}", validation_split=0.2)
    assert data.input_shape == (5, 7, 1) and data.class_names == ("0", "1", "2")
    assert (data.num_train, data.num_validation, data.num_test) == (48, 12, 9)
    x, y = data.test_arrays()
    assert np.allclose(x[..., 0], x_test / 255.0) and np.array_equal(y, y_test)
    seen = {img.tobytes(): label for img, label in zip(x_train, y_train, strict=True)}
    for split in ("train", "validation"):
        xs, ys = data.arrays(split)
        for img, label in zip(np.round(xs[..., 0] * 255).astype(np.uint8), ys, strict=True):
            assert seen[img.tobytes()] == label


def test_npz_float_colour_without_test_split(tmp_path):
    path = tmp_path / "float.npz"
    x = np.random.default_rng(1).random((50, 4, 4, 3)).astype(np.float32)
    np.savez(path, x_train=x, y_train=np.eye(2)[np.arange(50) % 2], class_names=np.array(["no", "yes"]))
    data = load_dataset(f"npz:{path}")
    assert data.input_shape == (4, 4, 3) and data.class_names == ("no", "yes")
    assert data.num_test == 10 and list(data.class_counts("test")) == [5, 5]
    every = np.concatenate([data.arrays(split)[0] for split in ("train", "validation", "test")])
    assert np.array_equal(np.sort(every, axis=None), np.sort(x, axis=None))  # floats in [0, 1] kept as they are


def test_npz_problems(tmp_path):
    missing = tmp_path / "missing.npz"
    np.savez(missing, x_train=np.zeros((4, 3, 3)))
    with pytest.raises(DatasetError, match="y_train"):
        load_dataset(f"npz:{missing}")
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, x_train=np.zeros((4, 3, 3)), y_train=np.array([0, 1, 0]))
    with pytest.raises(DatasetError, match="4 images but y_train has 3"):
        load_dataset(f"npz:{uneven}")
    flat = tmp_path / "flat.npz"
    np.savez(flat, x_train=np.zeros((4, 9)), y_train=np.array([0, 1, 0, 1]))
    with pytest.raises(DatasetError, match=r"\(N, H, W\)"):
        load_dataset(f"npz:{flat}")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"npz:{tmp_path / 'nothing.npz'}")


def test_unknown_name():
    with pytest.raises(DatasetError, match="unknown dataset 'imagenet'.*mnist-sample"):
        load_dataset("imagenet")


# -- downloads ---------------------------------------------------------------------------
@pytest.fixture
def empty_keras_cache(tmp_path, monkeypatch):
    """Keras's cache ($KERAS_HOME) in an empty folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def local_mnist(empty_keras_cache, monkeypatch):
    """'mnist' fetched from a real HTTP server on 127.0.0.1 serving a 3 MiB stand-in file."""
    payload = bytes(range(256)) * (3 << 12)
    with serving({"mnist.npz": payload}) as served:
        monkeypatch.setitem(downloads.KERAS_FILES, "mnist", (downloads.KerasFile("mnist.npz", served.base + "mnist.npz"),))
        yield served, payload


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "cifar100"])
def test_download_without_network_fails_fast_and_clearly(empty_keras_cache, monkeypatch, name):
    monkeypatch.setattr(downloads, "host_reachable", lambda host, *a, **k: False)
    start = time.monotonic()
    with pytest.raises(DatasetError) as err:
        load_dataset(name)
    assert time.monotonic() - start < 3
    assert str(err.value) == (f"cannot download '{name}': no network connection. "
                              "Use 'mnist-sample' (bundled) or a folder/npz dataset")
    with pytest.raises(DatasetError, match="not downloaded yet"):
        load_dataset(name, download=False)
    assert not any(empty_keras_cache.rglob("*.*"))


def test_a_download_the_server_refuses_is_explained_and_leaves_nothing(local_mnist, empty_keras_cache):
    served, _payload = local_mnist
    downloads.KERAS_FILES["mnist"] = (downloads.KerasFile("mnist.npz", served.base + "gone.npz"),)
    with pytest.raises(DatasetError, match=r"cannot download 'mnist' \(.*404.*\); check the network connection"):
        downloads.fetch("mnist")
    assert served.requests == ["gone.npz"] and not list(empty_keras_cache.rglob("*.npz"))


def test_reachability_check_never_hangs(monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(2)
        raise TimeoutError("timed out")  # as a real connection attempt ends, long after we stopped waiting

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.monotonic()
    assert downloads.host_reachable("example.invalid", timeout=0.2) is False
    assert time.monotonic() - start < 1.5

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert downloads.host_reachable("example.invalid") is False


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "cifar100"])
def test_the_files_are_fetched_with_the_arguments_keras_datasets_uses(name):
    """So they land where `keras.datasets.<name>.load_data()` looks for them, under the names it uses."""
    import inspect

    import keras

    loader = {"mnist": keras.datasets.mnist, "fashion-mnist": keras.datasets.fashion_mnist,
              "cifar10": keras.datasets.cifar10, "cifar100": keras.datasets.cifar100}[name].load_data
    source = inspect.getsource(loader)
    for file in downloads.KERAS_FILES[name]:
        assert f'"{file.fname}"' in source or f"'{file.fname}'" in source
        folder, _, _ = file.origin.rpartition(file.fname)
        assert file.origin in source or (folder in source and file.fname in source)
        assert ("extract=True" in source) == file.extract
        assert ("fashion-mnist" in source) == (file.cache_subdir != "datasets")


def test_a_download_from_a_real_server_lands_in_keras_cache_with_progress_once(local_mnist, empty_keras_cache):
    served, payload = local_mnist
    fractions = []
    paths = downloads.fetch("mnist", progress=fractions.append)
    target = empty_keras_cache / "datasets" / "mnist.npz"
    assert paths == [str(target)] and target.read_bytes() == payload
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 3
    again = []
    assert downloads.fetch("mnist", progress=again.append) == paths  # cached: not downloaded again
    assert served.requests == ["mnist.npz"] and again == [1.0]


def test_a_download_stopped_from_its_progress_leaves_no_partial_file(local_mnist, empty_keras_cache):
    class Stop(Exception):
        pass

    def stop_halfway(fraction: float) -> None:
        if fraction > 0.5:
            raise Stop()

    with pytest.raises(Stop):
        downloads.fetch("mnist", progress=stop_halfway)
    assert not list(empty_keras_cache.rglob("mnist*"))



@pytest.mark.parametrize("labels", [np.array([0, 1, 10**9]), np.array([0.0, np.nan, 1.0]),
                                    np.array(["a", "b", "a"]), np.zeros((3, 2, 1), np.int64)])
def test_npz_labels_that_cannot_be_classes_are_a_dataset_error(tmp_path, labels):
    path = tmp_path / "odd.npz"
    np.savez(path, x_train=np.zeros((3, 8, 8), np.uint8), y_train=labels)
    with pytest.raises(DatasetError, match="y_train in"):
        load_dataset(f"npz:{path}")
