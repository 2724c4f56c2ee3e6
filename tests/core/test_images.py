"""The one picture decoder, on real odd files made with Pillow: as a person sees each picture, or a
clear message naming the file."""

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.errors import UserError
from cnnstudio.core.images import (
    GREY,
    IMAGE_EXTENSIONS,
    RGB,
    image_problem,
    image_size_and_colour,
    is_image_path,
    read_image,
)


def test_a_jpeg_turned_by_its_exif_tag_is_read_upright(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # as the sensor wrote it: 40 wide, 20 high
    stored[:, :10] = (255, 0, 0)  # a red band on the stored picture's left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = tmp_path / "photo.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    upright = read_image(path)
    assert upright.shape == (40, 20, 3)  # now 20 wide, 40 high
    assert upright[:10, :, 0].mean() > 200 and upright[-10:, :, 0].mean() < 60  # the band is on top
    assert image_size_and_colour(path) == ((40, 20), RGB)


def test_a_palette_png_with_a_transparent_colour_shows_on_white(tmp_path):
    picture = Image.new("P", (4, 4), 0)
    picture.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    picture.paste(1, (0, 0, 2, 4))  # left half red, right half colour 0 (transparent)
    path = tmp_path / "sprite.png"
    picture.save(path, transparency=0)
    pixels = read_image(path)
    assert pixels.shape == (4, 4, 3)
    assert np.all(pixels[:, :2] == (255, 0, 0)) and np.all(pixels[:, 2:] == 255)


def test_grey_with_alpha_stays_grey_and_transparent_parts_are_white(tmp_path):
    values = np.zeros((3, 3, 2), np.uint8)
    values[..., 0], values[0, :, 1] = 40, 255  # top row opaque dark grey, the rest fully transparent
    path = tmp_path / "ink.png"
    Image.fromarray(values, "LA").save(path)
    pixels = read_image(path)
    assert pixels.shape == (3, 3) and np.all(pixels[0] == 40) and np.all(pixels[1:] == 255)
    assert image_size_and_colour(path)[1] == GREY


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    values = np.array([[0, 1000, 32768, 65535]], np.uint16)
    path = tmp_path / "depth.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    np.testing.assert_array_equal(read_image(path), [[0, 4, 128, 255]])


def test_a_cmyk_jpeg_is_read_as_rgb(tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (6, 4), (0, 255, 255, 0)).save(path, quality=100)  # pure red ink-wise
    pixels = read_image(path)
    assert pixels.shape == (4, 6, 3)
    assert pixels[..., 0].min() > 200 and pixels[..., 1:].max() < 60


def test_colour_and_size_can_be_asked_for(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (10, 20), (255, 0, 0)).save(path)
    grey = read_image(path, GREY, size=(5, 8))
    assert grey.shape == (5, 8) and np.all(grey == 76)  # ITU-R 601 luma of pure red
    assert read_image(path, RGB).shape == (20, 10, 3)


def test_a_cut_short_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "half.png"
    Image.new("RGB", (64, 64), (10, 200, 30)).save(path)
    path.write_bytes(path.read_bytes()[:120])
    with pytest.raises(UserError, match=r"^half\.png is not a picture CNN Studio can read \(.*truncated"):
        read_image(path)
    assert image_problem(path) is not None


def test_a_text_file_named_png_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("shopping list: milk, eggs")
    with pytest.raises(UserError, match=r"^notes\.png is not a picture CNN Studio can read \(not a known image"):
        read_image(path)
    assert image_problem(path) is not None and image_problem(tmp_path / "missing.png") is not None
    with pytest.raises(UserError, match="there is no file"):
        read_image(tmp_path / "missing.png")


def test_one_list_of_picture_file_types():
    assert is_image_path("A.JPG") and is_image_path("scan.tiff") and not is_image_path("notes.txt")
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"} == set(IMAGE_EXTENSIONS)
