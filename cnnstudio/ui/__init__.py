"""The desktop program (PySide6). The only package that imports Qt."""
