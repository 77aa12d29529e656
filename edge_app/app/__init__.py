"""The PyQt6 window: live video, every printed link outlined and clickable.

``run_app(AppOptions(source="demo"))`` opens it; the ``links-detector app``
command is a thin wrapper around it.
"""

from __future__ import annotations

import logging
import sys

# Qt is imported here, not on first use, so that a missing PyQt6 or Qt
# system library is an ImportError of this package (the CLI explains it).
from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import QApplication

from edge_app.app.main_window import MainWindow
from edge_app.app.options import AppOptions
from edge_app.app.qt_env import guard_qt_plugin_path
from edge_app.app.screenshot import ScreenshotTaker

log = logging.getLogger(__name__)

__all__ = ["AppOptions", "run_app"]

SCREENSHOT_SIZE = (1280, 720)


def _quiet_opencv() -> None:
    """Looking for cameras opens every index; OpenCV warns for each absent
    one. The window reports what matters itself."""
    try:
        import cv2.utils.logging as cv_log

        if cv_log.getLogLevel() > cv_log.LOG_LEVEL_ERROR:
            cv_log.setLogLevel(cv_log.LOG_LEVEL_ERROR)
    except (ImportError, AttributeError):  # older OpenCV: warnings stay
        pass


def run_app(options: AppOptions, *, settings: QSettings | None = None) -> int:
    """Show the window and run until it is closed (or the screenshot is
    taken / --quit-after passes). Returns the process exit status.
    ``settings``: where geometry and the last source are kept (default: the
    user's Links Detector settings)."""
    guard_qt_plugin_path()  # before QApplication loads the platform plugin
    _quiet_opencv()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Links Detector")
    app.setOrganizationName("links-detector")
    window = MainWindow(options, settings=settings)
    taker = None
    if options.screenshot:
        # The same picture on every machine, whatever size the user left the window at.
        window.remember_geometry = False
        window.resize(*SCREENSHOT_SIZE)
        taker = ScreenshotTaker(window, options.screenshot, options.quit_after)
        taker.start()
    elif options.quit_after:
        QTimer.singleShot(int(options.quit_after * 1000), app.quit)
    window.show()
    window.start()
    status = app.exec()
    window.close()
    if taker is not None and (not taker.saved or window.reader_error):
        return 1  # a documentation run must not pass with a picture of an error
    return int(status)
