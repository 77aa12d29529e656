"""Links Detector edge runtime: frames in, clickable printed links out.

This package runs on the device (laptop, Raspberry Pi). It never imports
TensorFlow: the detector runs through the LiteRT interpreter.
"""

__version__ = "0.1.0"
