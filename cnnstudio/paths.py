"""Where CNN Studio finds its bundled resources."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The folder holding templates, the MNIST sample and other bundled files."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "resources", here / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("CNN Studio's resources folder is missing; reinstall the program")
