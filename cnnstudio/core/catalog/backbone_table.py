"""Facts about each pretrained backbone (`backbone_table.json`), measured with Keras by
scripts/make_backbone_table.py: parameter counts, output channels, the head's sizes, the strides and
paddings that give shapes and receptive fields. Generated: run the script again after a Keras upgrade.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

TABLE: dict[str, Any] = json.loads(resources.files(__package__).joinpath("backbone_table.json").read_text("utf-8"))
