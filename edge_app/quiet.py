"""Keeps native libraries' chatter off the terminal.

LiteRT's C++ runtime prints "INFO: Created TensorFlow Lite XNNPACK
delegate" when a model loads, and Leptonica (inside Tesseract) prints
"Error in boxClipToRectangle" on harmless page-layout corner cases. Both
write to file descriptor 2 directly, past Python's ``sys.stderr``. The CLI
silences them around those calls unless asked to be verbose; Python
exceptions and logging are unaffected (they are raised or written after).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced(enabled: bool = True) -> Iterator[None]:
    """Point file descriptor 2 at the null device for the ``with`` block."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 (an embedded interpreter)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
