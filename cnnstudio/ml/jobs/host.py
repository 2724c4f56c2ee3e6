"""Runs ML jobs where the window's TensorFlow work lives, and keeps what they share between them.

    host = JobHost()                    # one per window, made where the jobs run
    result = host.run(call, progress)   # the call's model made current first, then its job

Whatever carries calls to the host (today the window's ML thread, next a worker process)
only hands it `JobCall`s and a `Progress`, and carries events and results back.
"""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .protocol import MODEL_READY, JobCall, Progress, job_function


class JobHost:
    """The `Workspace` (loaded datasets, the model under inspection) and the jobs that use it."""

    def __init__(self) -> None:
        self.workspace = Workspace()

    def run(self, call: JobCall, progress: Progress) -> Any:
        """Make the call's model current (telling the window with a MODEL_READY event when it is a
        different one), then run its job."""
        if call.model is not None:
            before = self.workspace.facts
            facts = self.workspace.use_model(call.model.project, call.model.run_dir)
            if facts is not before:
                progress.event(MODEL_READY, facts)
        return job_function(call.request)(self.workspace, call.request, progress)
