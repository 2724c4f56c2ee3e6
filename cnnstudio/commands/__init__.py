"""Commands of the `cnnstudio` command line that need TensorFlow (train, export).

`cnnstudio.cli` parses the arguments and calls `<command>.run(args) -> int`.
Progress goes to stderr; results go to stdout.
"""

from __future__ import annotations

from ..ml.quiet import quiet_keras, quiet_tensorflow

__all__ = ["quiet_keras", "quiet_tensorflow"]
