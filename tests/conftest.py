"""Shared test setup."""

import os

# Qt windows render off screen: the tests run on machines without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
