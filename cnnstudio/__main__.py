"""``python -m cnnstudio``: the same as the ``cnnstudio`` command."""

import sys

from .cli import main

sys.exit(main())
