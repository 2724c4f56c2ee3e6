"""The bundled starting points (CONTRACTS.md section 4) and resolving PROJECT arguments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import resources_dir
from .errors import ProjectError
from .project import Project, load_project

TEMPLATE_NAMES = (
    "lenet5", "mnist-cnn", "keras-mnist-convnet", "mlp", "edge-detector",
    "cifar10-convnet", "resnet-mini", "vgg-mini", "unet-mini",
)  # fmt: skip
DEFAULT_TEMPLATE = "lenet5"


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    description: str
    dataset: str


def template_path(name: str) -> Path:
    if name not in TEMPLATE_NAMES:
        raise ProjectError(f"no template named '{name}'; templates: {', '.join(TEMPLATE_NAMES)}")
    return resources_dir() / "templates" / f"{name}.cnnproj"


def load_template(name: str) -> Project:
    """A fresh project from a template (not tied to the template's file)."""
    project = load_project(template_path(name))
    project.path = None
    return project


def list_templates() -> list[TemplateInfo]:
    infos = []
    for name in TEMPLATE_NAMES:
        project = load_template(name)
        infos.append(TemplateInfo(name, project.name, str(project.extra.get("description", "")),
                                  str(project.dataset.get("name", ""))))
    return infos


def default_project() -> Project:
    return load_template(DEFAULT_TEMPLATE)


def resolve_project(argument: str) -> Project:
    """PROJECT on the command line: a path to a .cnnproj file or a template name."""
    path = Path(argument)
    if argument in TEMPLATE_NAMES and not path.exists():
        return load_template(argument)
    if path.exists() or argument.endswith(".cnnproj"):
        return load_project(path)
    raise ProjectError(
        f"'{argument}' is neither a project file nor a template; templates: {', '.join(TEMPLATE_NAMES)}"
    )
