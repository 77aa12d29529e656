"""Draws links on a picture: each line quad outlined, the URL written above it.

One drawing rule for every consumer: ``detect --annotate`` writes these
pictures, and the app may use the same function for its snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from edge_app.results import Link

# BGR. Green outlines read well on white paper and on most photos.
LINK_COLOR = (40, 170, 40)
TEXT_COLOR = (255, 255, 255)
DETECTION_COLOR = (0, 140, 255)


def _scale(image: np.ndarray) -> float:
    """Line and text size follow the picture, so a 4000 px photo is as
    readable as a 640 px frame."""
    return max(image.shape[:2]) / 1000.0


def draw_links(image: np.ndarray, links: Iterable[Link], *, detections: Iterable[np.ndarray] = (),
               label: bool = True) -> np.ndarray:
    """A copy of ``image`` (BGR or gray) with ``links`` drawn on it.

    Each quad of a link is outlined; its URL is written on a filled band
    above the link's first quad. ``detections`` (quads) that are not links
    (lines the detector found but no URL was read from) are outlined thinly
    in orange, which helps to judge a model.
    """
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    s = _scale(out)
    thick = max(1, int(round(2.5 * s)))
    for quad in detections:
        pts = np.round(np.asarray(quad, np.float32).reshape(4, 2)).astype(np.int32)
        cv2.polylines(out, [pts], True, DETECTION_COLOR, max(1, thick // 2), cv2.LINE_AA)
    font, fscale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, 0.6 * s)
    fthick = max(1, int(round(1.5 * s)))
    for link in links:
        for quad in link.quads:
            pts = np.round(np.asarray(quad, np.float32).reshape(4, 2)).astype(np.int32)
            cv2.polylines(out, [pts], True, LINK_COLOR, thick, cv2.LINE_AA)
        if not label or not link.quads:
            continue
        first = np.asarray(link.quads[0], np.float32).reshape(4, 2)
        (tw, th), base = cv2.getTextSize(link.url, font, fscale, fthick)
        x = int(round(float(first[:, 0].min())))
        y = int(round(float(first[:, 1].min()))) - thick
        if y - th - base < 0:  # no room above the line: write below it
            y = int(round(float(first[:, 1].max()))) + th + base + thick
        x = min(max(0, x), max(0, out.shape[1] - tw))
        cv2.rectangle(out, (x, y - th - base), (x + tw, y + base // 2), LINK_COLOR, cv2.FILLED)
        cv2.putText(out, link.url, (x, y - base // 2), font, fscale, TEXT_COLOR, fthick, cv2.LINE_AA)
    return out
