"""Settings the window and the command line both read, in a small JSON file (no Qt needed to read it).

The window's other preferences live in QSettings; what `cnnstudio train` must honour too
— the Keras backend chosen in Preferences — is kept here instead, in
``settings.json`` of the user's config folder (platformdirs; ``CNNSTUDIO_CONFIG_DIR``
overrides it), written through the one atomic writer. A missing or unreadable file
means "nothing chosen".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .files import atomic_write_text, write_error

FILE_NAME = "settings.json"
FORMAT = "cnnstudio-settings"
BACKEND = "backend"  # the Keras backend: "tensorflow", "jax" or "torch"


def config_dir() -> Path:
    override = os.environ.get("CNNSTUDIO_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_path

    return user_config_path("cnnstudio", appauthor=False)


def settings_file() -> Path:
    return config_dir() / FILE_NAME


def read_settings() -> dict[str, Any]:
    """Everything stored; {} when there is no file or it cannot be read."""
    try:
        data = json.loads(settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == FORMAT else {}


def get_setting(key: str) -> Any:
    return read_settings().get(key)


def set_setting(key: str, value: Any) -> None:
    """Store `value` under `key` (None removes it); a UserError when the file cannot be written."""
    data = {**read_settings(), "format": FORMAT, "version": 1}
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    path = settings_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise write_error(exc, path, "the settings") from None


def preferred_backend() -> str | None:
    """The Keras backend chosen in Preferences, or None when none was chosen."""
    value = get_setting(BACKEND)
    return value if isinstance(value, str) and value else None
