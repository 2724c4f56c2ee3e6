"""The inspector: a catalog-generated form for the selected layer, or the network overview."""

from .inspector import Inspector

__all__ = ["Inspector"]
