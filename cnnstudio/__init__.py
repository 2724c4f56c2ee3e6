"""CNN Studio: design, train and understand convolutional neural networks.

Importing this package stays light (NumPy only): TensorFlow and Qt load only
where they are used.
"""

from cnnstudio.core.convolution import convolve2d

__all__ = ["__version__", "convolve2d"]

__version__ = "0.1.0"
