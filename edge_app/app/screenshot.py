"""``--screenshot FILE --quit-after S``: a picture of the window once links are read."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QApplication, QMainWindow

log = logging.getLogger(__name__)

SETTLE_S = 1.5  # after the first link, wait this long for the others on the page
DEFAULT_WAIT_S = 30.0


class ScreenshotTaker(QObject):
    """Waits until the view shows at least one link and a little longer (for
    the rest of the page), then saves the window at a moment when overlays
    are on screen; at the deadline it saves whatever is shown. Then quits."""

    def __init__(self, window: QMainWindow, path: Path, wait_s: float | None) -> None:
        super().__init__(window)
        self.window = window
        self.path = Path(path)
        self.deadline = time.monotonic() + (wait_s if wait_s else DEFAULT_WAIT_S)
        self.first_link_at: float | None = None
        self.saved: bool | None = None
        self._timer = QTimer(self, interval=100, timeout=self._tick)

    def start(self) -> None:
        self._timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.first_link_at is None and self.window.view.links():
            self.first_link_at = now
        settled = self.first_link_at is not None and now - self.first_link_at >= SETTLE_S
        # Tracks come and go with the camera: wait for a moment with links on screen.
        if (settled and self.window.view.links()) or now >= self.deadline:
            self._timer.stop()
            if not self.window.view.links():
                log.warning("no link was read before the deadline: the screenshot shows none")
            self.saved = self.save()
            QApplication.quit()

    def save(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ok = self.window.grab().save(str(self.path))
        if ok:
            log.info("saved %s", self.path)
        else:
            log.error("cannot write the screenshot %s", self.path)
        return ok
