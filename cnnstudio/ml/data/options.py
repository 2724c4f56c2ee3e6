"""The user's choices for loading a dataset, checked once with plain-words errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnnstudio.core.errors import DatasetError
from cnnstudio.core.label_edits import LabelEdits

NORMALIZATIONS = ("scale", "standardize", "none")
COLOR_MODES = (None, "grayscale", "rgb")


@dataclass(frozen=True)
class LoadOptions:
    """How to split and transform a dataset (see `load_dataset` for the meaning of each)."""

    validation_split: float = 0.1
    seed: int = 0
    normalization: str = "scale"
    permute_pixels: int | None = None
    image_size: tuple[int, int] | None = None
    color_mode: str | None = None
    label_edits: LabelEdits = LabelEdits()  # folder datasets: relabelled and excluded images

    @classmethod
    def checked(
        cls,
        *,
        validation_split: float = 0.1,
        seed: int = 0,
        normalization: str = "scale",
        permute_pixels: int | None = None,
        image_size: int | Sequence[int] | None = None,
        color_mode: str | None = None,
        label_edits: LabelEdits | None = None,
    ) -> LoadOptions:
        """Options from user values, raising DatasetError for any that cannot work."""
        try:
            split = float(validation_split)
        except (TypeError, ValueError):
            raise DatasetError(f"validation_split {validation_split!r} is not a number; "
                               "use a fraction such as 0.1") from None
        if not 0.0 <= split < 1.0:
            raise DatasetError(f"validation_split {validation_split!r} is out of range; "
                               "use a fraction from 0 (no validation) up to below 1, such as 0.1")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise DatasetError(f"seed {seed!r} is not a whole number; use e.g. 0")
        if normalization not in NORMALIZATIONS:
            raise DatasetError(f"normalization {normalization!r} is unknown; use one of "
                               + ", ".join(repr(n) for n in NORMALIZATIONS))
        if permute_pixels is not None and (isinstance(permute_pixels, bool) or not isinstance(permute_pixels, int)):
            raise DatasetError(f"permute_pixels {permute_pixels!r} must be null or a whole number (a seed)")
        if color_mode not in COLOR_MODES:
            raise DatasetError(f"color mode {color_mode!r} is unknown; use 'grayscale', 'rgb' or leave it unset")
        return cls(split, seed, normalization, permute_pixels, _checked_size(image_size), color_mode,
                   label_edits or LabelEdits())


def _checked_size(image_size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    values = [image_size, image_size] if isinstance(image_size, int) else list(image_size)
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096
                                   for v in values):
        raise DatasetError(f"image size {image_size!r} is not valid; give [height, width] in pixels, "
                           "e.g. [28, 28]")
    return values[0], values[1]
