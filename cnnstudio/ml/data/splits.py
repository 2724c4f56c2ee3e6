"""Stratified, seeded splits: every class keeps its share in every part."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, taken): `fraction` of the examples taken, class by class.

    The number taken is round(fraction * N) in total, shared out among the classes in
    proportion to their size (largest remainders get the odd ones), so each class's share
    in both parts is within one example of its share overall. A class keeps at least one
    example. Both index arrays come back in a seeded shuffled order (so the first items
    of a part already mix the classes). Same labels and seed, same split.
    """
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    total = int(round(fraction * len(labels)))
    exact = counts * (total / max(len(labels), 1))
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: total - quota.sum()]:
        quota[i] += 1
    quota = np.minimum(quota, counts - 1)
    kept, taken = [], []
    for cls, n_take in zip(classes, quota, strict=True):
        members = rng.permutation(np.flatnonzero(labels == cls))
        taken.append(members[:n_take])
        kept.append(members[n_take:])
    kept_idx = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    taken_idx = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
    return rng.permutation(kept_idx), rng.permutation(taken_idx)
