"""The network canvas: scene, items, view, undo commands and the editing operations."""
