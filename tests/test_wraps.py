"""The rest of a wrapped link: which line continues which, and the keep rule that uses it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from printed_lines import LEADING, printed_lines

from edge_app.line_check import CheckSpec, kept_lines
from edge_app.wraps import Wraps, with_wraps

def _follows(page: np.ndarray, quads: list[np.ndarray]) -> list[list[int]]:
    """For each quad, the ones it continues."""
    wraps = Wraps(page, quads)
    return [[j for j in range(len(quads)) if wraps.continues(j, i)] for i in range(len(quads))]


WRAPPED = ["The manual is online at https://example.org/docs/",
           "guide/index.html for everyone who",
           "wants to read it."]


@pytest.mark.parametrize("angle", [0.0, 8.0, -5.0])
def test_the_rest_of_a_link_at_the_next_line_start_follows_it(angle):
    page, quad = printed_lines(WRAPPED, angle)
    link = quad(0, WRAPPED[0].index("https"), len(WRAPPED[0]))
    rest = quad(1, 0, len("guide/index.html"))
    mid = quad(1, WRAPPED[1].index("everyone"), len(WRAPPED[1]))  # ink before it: not a line start
    third = quad(2, 0, len(WRAPPED[2]))  # a line start after "everyone who" ends its line
    found = _follows(page, [link, rest, mid, third])
    assert found[:3] == [[], [0], []] and 2 in found[3]
    # Four lines down, or at 2.5 times the size, is not the next line of the same text.
    down = cv2.transform(np.float32([[[0, 4 * LEADING]]]), cv2.getRotationMatrix2D((0, 0), angle, 1.0))[0, 0]
    assert _follows(page, [link, rest + down]) == [[], []]
    centre = rest.mean(axis=0)
    assert _follows(page, [link, (rest - centre) * 2.5 + centre]) == [[], []]


def test_a_link_followed_by_more_words_on_its_line_is_not_wrapped():
    lines = ["See https://example.org/docs/ for the", "guide/index.html and more."]
    page, quad = printed_lines(lines)
    link = quad(0, lines[0].index("https"), lines[0].index(" for"))
    rest = quad(1, 0, len("guide/index.html"))
    assert _follows(page, [link, rest]) == [[], []]


def test_wrapped_rests_are_let_in_along_a_chain():
    after = [[], [0], [1], []]

    def continues(upper: int, lower: int) -> bool:
        return upper in after[lower]
    assert with_wraps([True, False, False, False], [False, True, True, True], continues) == [True, True, True, False]
    # A rest that is not eligible stops the chain.
    assert with_wraps([True, False, False, False], [False, False, True, True], continues) == [True, False, False, False]


def test_keep_rule_lets_a_doubtful_rest_in_only_at_the_wrap_bar():
    scores, sure = [0.95, 0.8, 0.8], 0.9
    probs = [None, 0.4, 0.2]  # the sure line not asked, two doubtful ones
    asked: list[tuple[int, int]] = []

    def continues(upper: int, lower: int) -> bool:
        asked.append((upper, lower))
        return upper == 0
    spec = CheckSpec(keep=0.8, veto=0.0)
    assert kept_lines(scores, probs, sure, spec, continues) == [True, False, False]
    assert asked == []  # no wrap rule: the geometry is never worked out
    spec = CheckSpec(keep=0.8, veto=0.0, wrap_keep=0.3)
    assert kept_lines(scores, probs, sure, spec, continues) == [True, True, False]
    # Only a candidate that could be let in is placed, and only against kept lines.
    assert set(asked) == {(0, 1)}
