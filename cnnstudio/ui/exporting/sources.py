"""What an export can start from: a training run's trained model, or the current network untrained.

Read from the run folders' small text files (no TensorFlow), for the dialog's "From" list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import Project, load_project
from cnnstudio.core.runs import RunSummary, load_history, summarize_run

MAX_LISTED_RUNS = 30


@dataclass(frozen=True)
class Source:
    """One entry of the "From" list; `run_dir` None means the current network, untrained."""

    label: str
    run_dir: Path | None = None

    @property
    def is_run(self) -> bool:
        return self.run_dir is not None


def run_label(summary: RunSummary, shown: bool = False) -> str:
    """"Trained model of run lenet5-20250101-120000 (finished, validation accuracy 97.1%)"."""
    facts = [summary.status.replace("_", " ")]
    accuracy = summary.metric("val_accuracy") or summary.metric("accuracy")
    if accuracy is not None:
        kind = "validation" if summary.metric("val_accuracy") is not None else "training"
        facts.append(f"{kind} accuracy {100 * accuracy:.1f}%")
    if shown:
        facts.append("shown in the inspection views")
    verb = "Imported model" if summary.status == "imported" else "Trained model"
    return f"{verb} of run {summary.name} ({', '.join(facts)})"


def list_sources(current: Path | None, runs_folder: Path, project: Project) -> list[Source]:
    """The run being inspected first, then the current network, then the other runs, newest first."""
    sources: list[Source] = []
    seen: set[Path] = set()
    if current is not None:
        summary = summarize_run(current)
        if summary is not None and summary.has_model:
            sources.append(Source(run_label(summary, shown=True), current))
            seen.add(current.resolve())
    seed = int(project.training.get("seed") or 0)
    sources.append(Source(f"The current network “{project.name}”, untrained (weights drawn with seed {seed})"))
    for summary in load_history(runs_folder)[:MAX_LISTED_RUNS]:
        if summary.has_model and summary.path.resolve() not in seen:
            sources.append(Source(run_label(summary), summary.path))
            seen.add(summary.path.resolve())
    return sources


def run_source(path: Path) -> Source:
    """A run folder the user picked; UserError when it is not a run with a trained model."""
    summary = summarize_run(path)
    if summary is None:
        raise UserError(f"{path} is not a training run (it has no run.json); choose a run folder")
    if not summary.has_model:
        raise UserError(f"the run {path.name} holds no trained model yet (no model.keras)")
    return Source(run_label(summary), path)


def source_project(source: Source, current: Project) -> Project:
    """The network an export writes: the run's snapshot, or a copy of the current project."""
    if source.run_dir is None:
        return current.copy()
    return load_project(source.run_dir / "project.cnnproj")
