"""The one place where the window hands a link to the browser."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QDesktopServices

from edge_app.urls import display_host, is_safe_to_open

log = logging.getLogger(__name__)

# Takes the URL to open; QDesktopServices.openUrl by default (looked up at
# call time, so a test can patch it).
Opener = Callable[[QUrl], object]


def open_link(url: str, opener: Opener | None = None) -> bool:
    """Open ``url`` in the default browser if it is safe (http/https, a
    valid public host, no credentials). Returns whether it was handed over."""
    if not is_safe_to_open(url):
        log.warning("not opening %r: only http and https links with a valid host are opened", url)
        return False
    qurl = QUrl(url, QUrl.ParsingMode.StrictMode)
    if not qurl.isValid():
        log.warning("not opening %r: %s", url, qurl.errorString())
        return False
    log.info("opening %s (host %s)", url, display_host(url))
    (opener or QDesktopServices.openUrl)(qurl)
    return True


def tooltip(url: str) -> str:
    """What hovering a link shows: the whole URL and, on its own line, the
    host exactly as it will be contacted (punycode first: a look-alike
    domain cannot hide)."""
    lines = [url, f"Host: {display_host(url)}"]
    lines.append("Click to open · right-click to copy" if is_safe_to_open(url)
                 else "Not opened: only http and https links are opened")
    return "\n".join(lines)
