"""Streaming a large image folder: does training on `folder:PATH` stay within memory?

    python benchmarks/folder_streaming.py [--images 20000] [--size 64] [--keep DIR]

Writes a folder dataset of `--images` PNG files (10 classes, RGB, `--size` pixels square)
into a temporary folder, trains a small convolutional network on it for one epoch with
the CNN Studio trainer (the files are decoded batch by batch, never all at once), and
prints the time, the speed and the peak resident memory of the process. Goal: peak
RSS < 1.5 GB.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLASSES = 10


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def write_images(root: Path, count: int, size: int) -> None:
    """`count` PNGs, class k showing a bright square in the k-th of ten places, plus noise."""
    import numpy as np
    from PIL import Image

    def write(index: int) -> None:
        rng = np.random.default_rng(index)
        label = index % CLASSES
        image = rng.integers(0, 90, (size, size, 3), dtype=np.uint8)
        cell = size // 4
        row, col = divmod(label, 4)
        image[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell] += 120
        Image.fromarray(image).save(root / f"class{label}" / f"{index:06d}.png", compress_level=1)

    for label in range(CLASSES):
        (root / f"class{label}").mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(count)))


def network(size: int) -> dict:
    nodes = [
        {"id": "input", "type": "Input", "params": {"shape": [size, size, 3]}},
        {"id": "conv1", "type": "Conv2D", "params": {"filters": 8, "kernel_size": 3, "activation": "relu"}},
        {"id": "pool1", "type": "MaxPooling2D", "params": {"pool_size": 4}},
        {"id": "conv2", "type": "Conv2D", "params": {"filters": 16, "kernel_size": 3, "activation": "relu"}},
        {"id": "pool2", "type": "MaxPooling2D", "params": {"pool_size": 2}},
        {"id": "flat", "type": "Flatten", "params": {}},  # keeps where the bright square is: that is the class
        {"id": "out", "type": "Dense", "params": {"units": CLASSES, "activation": "softmax"}},
    ]
    ids = [n["id"] for n in nodes]
    return {"nodes": nodes, "edges": [[a, b] for a, b in zip(ids, ids[1:], strict=False)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--keep", help="write the images here and keep them (default: a temporary folder)")
    args = parser.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cnnstudio-folder-"))
    try:
        start = time.perf_counter()
        if not (root / "class0").exists():
            write_images(root, args.images, args.size)
        on_disk = sum(p.stat().st_size for p in root.rglob("*.png"))
        print(f"wrote {args.images:,} PNG images ({on_disk / 1e6:,.0f} MB) in {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)

        from cnnstudio.commands import quiet_tensorflow

        quiet_tensorflow()
        from cnnstudio.core.project import project_from_dict
        from cnnstudio.ml.trainer import Trainer, TrainingCallbacks

        after_import = peak_rss_bytes()
        project = project_from_dict({
            "format": "cnnstudio-project", "version": 1, "name": "folder-streaming",
            "network": network(args.size),
            "dataset": {"name": f"folder:{root}", "permute_pixels": None},
            "training": {"optimizer": "adam", "learning_rate": 0.002, "batch_size": args.batch_size, "epochs": 1,
                         "validation_split": 0.1, "seed": 0},
        })
        epochs = []
        start = time.perf_counter()
        trainer = Trainer(project, callbacks=TrainingCallbacks(on_epoch=epochs.append))
        result = trainer.run()
        seconds = time.perf_counter() - start
        data = trainer.dataset
        print(f"\nfolder dataset: {data.num_train:,} train / {data.num_validation:,} validation / "
              f"{data.num_test:,} test images of {args.size}x{args.size}x3, batch {args.batch_size}")
        print(f"one epoch + validation + test, with the folder scan: {seconds:.1f} s "
              f"({epochs[0].images_per_second:,.0f} training images/s); test accuracy {result.test_accuracy:.3f}")
        print(f"peak RSS after importing TensorFlow: {after_import / 2**30:.2f} GiB")
        print(f"peak RSS of the whole run:           {peak_rss_bytes() / 2**30:.2f} GiB   (goal < 1.5 GB)")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
