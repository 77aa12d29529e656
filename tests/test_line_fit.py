"""Fitting a detected quad to its printed line (edge_app.line_fit)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_app.line_fit import fit_line
from edge_app.results import quad_height


def _page() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Three lines of text; the middle one is a URL followed by a word.
    Returns the image and the URL's ink box (x0, y0, x1, y1)."""
    img = np.full((220, 900), 255, np.uint8)
    font, scale, th = cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2
    cv2.putText(img, "the line above holds some words", (40, 60), font, scale, 0, th)
    cv2.putText(img, "https://example.org/path", (40, 110), font, scale, 0, th)
    (w, _), _ = cv2.getTextSize("https://example.org/path", font, scale, th)
    cv2.putText(img, "and more", (40 + w + 30, 110), font, scale, 0, th)
    cv2.putText(img, "the line below holds more words", (40, 160), font, scale, 0, th)
    ys, xs = np.nonzero(img[80:125, 30:40 + w + 10] < 128)
    return img, (30 + xs.min(), 80 + ys.min(), 30 + xs.max() + 1, 80 + ys.max() + 1)


def _quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_a_quad_cut_short_is_carried_to_the_ends_of_the_url_but_not_into_the_next_word() -> None:
    img, (x0, y0, x1, y1) = _page()
    h = y1 - y0
    # A glyph short at each end and a little too tall, as the detector gives.
    cut = _quad(x0 + 14, y0 - 0.2 * h, x1 - 14, y1 + 0.2 * h)
    fitted = fit_line(img, cut)
    assert fitted[:, 0].min() == pytest.approx(x0, abs=3)
    assert fitted[:, 0].max() == pytest.approx(x1, abs=3)  # "and" starts 30 px further on


def test_a_quad_taking_in_the_neighbouring_lines_is_cut_down_to_its_own() -> None:
    img, (x0, y0, x1, y1) = _page()
    h = y1 - y0
    tall = _quad(x0, y0 - 0.9 * h, x1, y1 + 0.9 * h)  # reaches into the lines above and below
    fitted = fit_line(img, tall)
    assert quad_height(fitted) < 0.7 * quad_height(tall)
    assert fitted[:, 1].min() > 60 and fitted[:, 1].max() < 160 - 20  # baselines of the neighbours


def test_fitting_never_makes_a_quad_taller_or_shorter() -> None:
    img, (x0, y0, x1, y1) = _page()
    q = _quad(x0 - 4, y0 - 3, x1 + 4, y1 + 3)  # ends already in blank paper
    fitted = fit_line(img, q)
    assert quad_height(fitted) <= quad_height(q) + 1e-3
    assert fitted[:, 0].min() == pytest.approx(q[:, 0].min(), abs=1.5)
    assert fitted[:, 0].max() == pytest.approx(q[:, 0].max(), abs=1.5)


def test_blank_paper_and_degenerate_quads_come_back_unchanged() -> None:
    blank = np.full((200, 400), 255, np.uint8)
    q = _quad(50, 50, 300, 80)
    np.testing.assert_array_equal(fit_line(blank, q), q)
    flat = _quad(50, 50, 300, 50)
    np.testing.assert_array_equal(fit_line(blank, flat), flat)


def test_a_rotated_line_is_fitted_along_its_own_axes() -> None:
    img, (x0, y0, x1, y1) = _page()
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    m = cv2.getRotationMatrix2D(centre, 12, 1.0)
    rot = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderValue=255)
    h = y1 - y0
    cut = _quad(x0 + 14, y0 - 0.2 * h, x1 - 14, y1 + 0.2 * h)
    cut_rot = cv2.transform(cut.reshape(-1, 1, 2), m).reshape(4, 2)
    fitted = fit_line(rot, cut_rot)
    back = cv2.transform(fitted.reshape(-1, 1, 2), cv2.invertAffineTransform(m)).reshape(4, 2)
    assert back[:, 0].min() == pytest.approx(x0, abs=4)
    assert back[:, 0].max() == pytest.approx(x1, abs=4)
