"""The one way CNN Studio reads a picture file: Pillow, one list of file types, plain words on failure.

Used by image-folder datasets, the pictures opened in the inspection views and the
convolution playground, so a photo looks the same everywhere:

- turned upright as the camera recorded it (EXIF orientation);
- transparent parts laid on a background (white, as image viewers show them);
- palette, 16-bit, CMYK, grey-with-alpha and the other Pillow modes read as 8-bit
  grey or RGB;
- a file that is not a picture, or is cut short, is a UserError saying which file and why.

Masks (segmentation: a class number per pixel) are read by `read_mask`: a palette PNG's
indices or a grey PNG's values as they are, never converted or blended.

Pillow is imported inside the functions: core stays cheap to import (and free of Qt and
TensorFlow; Pillow is a chosen dependency of the program).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DatasetError, UserError

if TYPE_CHECKING:
    from PIL import Image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGE_FILTER = f"Images ({' '.join('*' + ext for ext in IMAGE_EXTENSIONS)});;All files (*)"
WHITE = (255, 255, 255)
GREY = "grey"
RGB = "rgb"
# Pillow modes that hold one grey value per pixel (with or without alpha).
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held
TURNED_A_QUARTER = frozenset({5, 6, 7, 8})  # orientations whose upright picture swaps width and height


def is_image_path(path: str | Path) -> bool:
    """Whether the file's name ends like a picture's (the test the folder datasets use)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path, colour: str | None = None, size: tuple[int, int] | None = None,
               background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """The picture as uint8 pixels: (H, W) grey or (H, W, 3) RGB.

    ``colour``: GREY or RGB, or None to keep grey pictures grey and read the others as RGB.
    ``size``: (height, width) to stretch to (bilinear), or None for the picture's own size.
    """
    path = Path(path)
    with _opened(path) as picture:
        if size is not None and picture.format == "JPEG":  # decode big photos at about the size needed
            picture.draft("L" if colour == GREY else "RGB", (size[1], size[0]))
        try:
            pixels = _as_pixels(picture, colour, size, background)
        except OSError as exc:  # cut short, or broken inside
            raise _unreadable(path, exc) from None
    return pixels


def read_mask(path: str | Path, name: str | None = None) -> np.ndarray:
    """A mask file as (height, width) class numbers (uint8, uint16 past 255); DatasetError naming the file
    (`name`, else its path) for a JPEG (its compression changes class numbers), a colour picture or
    anything else that holds no class numbers."""
    path = Path(path)
    name = name or str(path)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        raise DatasetError(f"mask '{name}' is a JPEG file, whose compression changes class numbers; save masks "
                           "as PNG with one class number per pixel")
    try:
        with _opened(path) as picture:
            mode = picture.mode
            if mode in ("PA", "LA", "La"):  # the class numbers, without the transparency
                values = np.asarray(picture.getchannel(0))
            elif mode == "P" or mode in GREY_MODES:  # a palette's indices, or grey values
                values = np.asarray(picture)
            elif mode in ("RGB", "RGBA"):
                rgb = np.asarray(picture.convert("RGB"))
                if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
                    raise DatasetError(f"mask '{name}' is a colour picture; save each mask as a grey or palette "
                                       "PNG whose pixel values are the class numbers (0 = background)")
                values = rgb[..., 0]
            else:
                raise DatasetError(f"mask '{name}' has pixels of kind {mode}; save it as a grey or palette PNG "
                                   "whose pixel values are the class numbers")
    except DatasetError:
        raise
    except UserError as exc:
        raise DatasetError(f"mask '{name}' cannot be read ({exc}); save it as a grey or palette PNG") from None
    except OSError as exc:  # cut short, or broken inside
        raise DatasetError(f"mask '{name}' cannot be read ({exc}); save it as a grey or palette PNG") from None
    values = np.asarray(values)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if not np.issubdtype(values.dtype, np.integer) or (values.size and values.min() < 0):
        raise DatasetError(f"mask '{name}' holds values that are not class numbers 0, 1, 2, ...")
    return values.astype(np.uint8 if values.max(initial=0) < 256 else np.uint16)


def image_problem(path: str | Path) -> str | None:
    """None when the file is a picture Pillow can read, else the reason in a few words."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            picture.verify()
    except Exception as exc:  # Pillow raises many kinds; any means "cannot use it"
        return str(exc) or type(exc).__name__
    return None


def image_size_and_colour(path: str | Path) -> tuple[tuple[int, int], str]:
    """(height, width) of the upright picture and GREY or RGB, read from the file's header without
    decoding it."""
    path = Path(path)
    with _opened(path) as picture:
        width, height = picture.size
        if picture.getexif().get(ORIENTATION_TAG) in TURNED_A_QUARTER:
            width, height = height, width
        return (height, width), GREY if _is_grey(picture) else RGB


def fitted_size(size: tuple[int, int], largest: int) -> tuple[int, int]:
    """(height, width) shrunk, aspect kept, so that neither side passes ``largest`` (never grown)."""
    height, width = size
    shrink = min(1.0, largest / max(height, width))
    return max(1, round(height * shrink)), max(1, round(width * shrink))


def _opened(path: Path) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise UserError(f"there is no file {path}")
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise UserError(f"{path.name} is not a picture CNN Studio can read (not a known image format); "
                        "open a PNG or JPEG image") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> UserError:
    reason = str(exc).rstrip(".").lower() or type(exc).__name__
    return UserError(f"{path.name} is not a picture CNN Studio can read ({reason}); open a PNG or JPEG image")


def _is_grey(picture: Image.Image) -> bool:
    if picture.mode in GREY_MODES:
        return True
    if picture.mode == "P":  # a palette of grey colours only
        palette = picture.getpalette() or []
        colours = np.asarray(palette, np.uint8).reshape(-1, 3)
        return bool(len(colours)) and bool(np.all(colours.min(axis=1) == colours.max(axis=1)))
    return False


def _as_pixels(picture: Image.Image, colour: str | None, size: tuple[int, int] | None,
               background: tuple[int, int, int]) -> np.ndarray:
    from PIL import Image, ImageOps

    grey = _is_grey(picture) if colour is None else colour == GREY
    picture = ImageOps.exif_transpose(picture)
    if picture.mode in SIXTEEN_BIT_MODES:  # 0..65535 (or wider) values: scale, do not clip, to 0..255
        values = np.asarray(picture, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        picture = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    elif picture.mode == "F":
        picture = Image.fromarray(np.clip(np.asarray(picture), 0, 255).astype(np.uint8), "L")
    if picture.mode in ("RGBA", "LA", "La", "PA", "RGBa") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        picture = Image.new("RGBA", rgba.size, (*background, 255))
        picture.alpha_composite(rgba)
    picture = picture.convert("L" if grey else "RGB")  # CMYK, YCbCr, palettes, 1-bit: to 8-bit grey or RGB
    if size is not None and picture.size != (size[1], size[0]):
        picture = picture.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(picture, dtype=np.uint8).copy()
