"""Where CNN Studio finds its bundled resources."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The folder holding templates, the MNIST sample and other bundled files.

    Installed, it is the package's ``resources`` folder; in a source checkout, the
    repository's top-level ``resources/``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError("CNN Studio's resources folder is missing; reinstall the program")
