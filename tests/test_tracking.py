"""The tracker on synthetic detections: ids survive motion, new lines get new
ids, lost lines expire, and lines are read a few times, not every frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_app.results import Detection, quad_iou
from edge_app.tracking import Tracker, TrackerSettings, cut_by_frame, group_lines, is_below, sharpness


def quad(x: float, y: float, w: float = 200, h: float = 30) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def det(x: float, y: float, w: float = 200, h: float = 30) -> Detection:
    return Detection(quad(x, y, w, h), 0.9)


def blank() -> np.ndarray:
    return np.full((480, 640, 3), 255, np.uint8)


def test_quad_iou() -> None:
    assert quad_iou(quad(0, 0), quad(0, 0)) == pytest.approx(1.0)
    assert quad_iou(quad(0, 0), quad(100, 0)) == pytest.approx(1 / 3, abs=1e-3)
    assert quad_iou(quad(0, 0), quad(0, 100)) == 0.0


def test_moving_lines_keep_their_ids() -> None:
    tr = Tracker()
    ids = None
    for f in range(30):
        # Two lines drifting right/down by 4 px a frame (a hand-held page),
        # detections given in a different order every other frame.
        dets = [det(50 + 4 * f, 100 + 2 * f), det(60 + 4 * f, 300 + 2 * f)]
        if f % 2:
            dets.reverse()
        tracks = tr.update(dets)
        got = sorted((t.quad[0, 1], t.id) for t in tracks)
        if ids is None:
            ids = [i for _, i in got]
        assert [i for _, i in got] == ids
    assert len(tr.tracks) == 2 and all(t.hits == 30 for t in tr.tracks)


def test_small_fast_line_matched_by_centre_distance() -> None:
    # A short line (IoU drops to 0 after a 25 px jump) is still the same
    # line: its centre moved less than one line height.
    tr = Tracker()
    a = tr.update([det(100, 100, w=20, h=30)])[0]
    b = tr.update([det(125, 100, w=20, h=30)])[0]
    assert b.id == a.id
    c = tr.update([det(300, 100, w=20, h=30)])[0]  # far away: a different line
    assert c.id != a.id


def test_new_track_appears_and_old_ones_expire() -> None:
    tr = Tracker(TrackerSettings(max_missed=3))
    first = tr.update([det(50, 100)])[0]
    both = tr.update([det(50, 100), det(50, 300)])
    assert both[0].id == first.id and both[1].id != first.id
    second = both[1]
    for _ in range(3):
        tr.update([det(50, 300)])
        assert first.id in {t.id for t in tr.tracks}  # missed 1..3: kept
    tr.update([det(50, 300)])
    assert [t.id for t in tr.tracks] == [second.id]  # missed 4 > max_missed
    # A line reappearing where the expired one was is a new track.
    assert tr.update([det(50, 100), det(50, 300)])[0].id not in (first.id, second.id)


def test_reset_forgets_tracks() -> None:
    tr = Tracker()
    tr.update([det(0, 0)])
    tr.reset()
    assert tr.tracks == []


def _read_rounds(tr: Tracker, frames: list[np.ndarray], dets: list[list[Detection]], text: str) -> list[int]:
    """Run the tracker over frames; every due track 'reads' ``text``.
    Returns the number of reads per frame."""
    reads = []
    for img, d in zip(frames, dets):
        tr.update(d)
        due = tr.due(img)
        for t in due:
            tr.add_reading(t, text, 0.9, img)
        reads.append(len(due))
    return reads


def test_new_track_read_once_stable_then_stops_when_vote_is_stable() -> None:
    tr = Tracker(TrackerSettings(stable_frames=2, stable_votes=2, max_reads=4))
    img = blank()
    d = [[det(50, 100)]] * 10
    reads = _read_rounds(tr, [img] * 10, d, "https://example.com/a")
    # Frame 0: seen once, not yet stable. Frame 1: first read. Nothing on
    # the same view after that until a better view comes (or retry_frames
    # pass)...
    assert reads[0] == 0 and reads[1] == 1 and sum(reads) == 1
    t = tr.tracks[0]
    assert t.best_url == "https://example.com/a" and t.state == "reading"
    # ...a 30 % taller view is a reason to read again; the two readings
    # agree, so the vote is stable and reading stops for good.
    tall = [[det(50, 100, h=39)]] * 10
    reads = _read_rounds(tr, [img] * 10, tall, "https://example.com/a")
    assert reads[0] == 1 and sum(reads) == 1
    assert t.state == "done" and len(t.readings) == 2


def test_a_lone_reading_is_confirmed_later_then_reading_stops() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1, retry_frames=10, stable_votes=2))
    reads = _read_rounds(tr, [blank()] * 40, [[det(50, 100)]] * 40, "www.example.com")
    assert [i for i, n in enumerate(reads) if n] == [0, 10]  # read, confirmed, done
    assert tr.tracks[0].state == "done"


def test_a_line_the_frame_edge_cuts_is_read_once_it_is_whole() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1))
    w = blank().shape[1]
    # Sliding in from the right: the quad runs past the border, then fits.
    dets = [[det(w - 150 - 20 * i, 100)] for i in range(6)]
    assert [cut_by_frame(d[0].quad, blank().shape) for d in dets] == [True, True, True, False, False, False]
    reads = _read_rounds(tr, [blank()] * 6, dets, "https://example.com/a")
    assert reads == [0, 0, 0, 1, 0, 0]
    tr = Tracker(TrackerSettings(stable_frames=1, read_cut_lines=True))
    assert _read_rounds(tr, [blank()] * 6, dets, "https://example.com/a")[0] == 1


def test_sharper_view_triggers_a_reread() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1, sharper_ratio=1.5))
    sharp = blank()
    cv2.putText(sharp, "https://example.org/x", (55, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    d = [det(50, 100)]
    assert sharpness(sharp, d[0].quad) > 2 * sharpness(blurred, d[0].quad)
    reads = _read_rounds(tr, [blurred] * 3 + [sharp] * 3, [d] * 6, "https://example.org/x?")
    assert reads == [1, 0, 0, 1, 0, 0]


def test_reads_are_capped_and_unreadable_lines_are_retried_slowly() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1, max_reads=3, retry_frames=5, max_blind_retries=5))
    img = blank()
    reads = _read_rounds(tr, [img] * 40, [[det(50, 100)]] * 40, "")  # never any text
    assert sum(reads) == 3  # first read + 2 retries, then capped
    assert reads[0] == 1 and reads[1:5] == [0, 0, 0, 0]
    assert tr.tracks[0].state == "done"


def test_same_view_is_retried_only_max_blind_retries_times() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1, max_reads=4, retry_frames=5, max_blind_retries=1))
    reads = _read_rounds(tr, [blank()] * 40, [[det(50, 100)]] * 40, "")
    assert [i for i, n in enumerate(reads) if n] == [0, 5]
    assert tr.tracks[0].state == "reading"  # not given up: a larger view is read
    reads = _read_rounds(tr, [blank()] * 2, [[det(50, 100, h=40)]] * 2, "")
    assert reads == [1, 0]


def _text_frame(blur: float) -> np.ndarray:
    img = blank()
    cv2.putText(img, "https://example.org/x", (55, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return cv2.GaussianBlur(img, (0, 0), blur) if blur else img


def test_a_motion_blurred_view_is_not_read() -> None:
    tr = Tracker(TrackerSettings(stable_frames=2, blur_tolerance=0.7))
    sharp, blurred = _text_frame(0), _text_frame(2.5)
    d = [det(50, 100)]
    assert sharpness(blurred, d[0].quad) < 0.3 * sharpness(sharp, d[0].quad)
    # Seen sharp, then due in a blurred frame: it waits for a sharp one.
    reads = _read_rounds(tr, [sharp, blurred, blurred, sharp], [d] * 4, "")
    assert reads == [0, 0, 0, 1]
    # Without the gate it is read at once.
    tr = Tracker(TrackerSettings(stable_frames=2, blur_tolerance=0.0))
    assert _read_rounds(tr, [sharp, blurred, blurred, sharp], [d] * 4, "") == [0, 1, 0, 1]


def test_a_line_that_only_gets_blurrier_is_still_read() -> None:
    # Seen sharp once (not yet read), then only blurred (4 % of that sharpness).
    tr = Tracker(TrackerSettings(stable_frames=2, blur_tolerance=0.7, sharpness_decay=0.8))
    frames = [_text_frame(0)] + [_text_frame(1.2)] * 30
    reads = _read_rounds(tr, frames, [[det(50, 100)]] * len(frames), "")
    first = reads.index(1)
    # The old peak fades: read once 0.8**n * 0.7 < 0.04 (n = 13), not before.
    assert 12 <= first <= 16 and sum(reads) >= 1


def test_disagreeing_readings_are_voted() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1))
    t = tr.update([det(0, 0)])[0]
    for text in ("https://examp1e.com", "https://example.com", "https://example.com"):
        tr.add_reading(t, text, 0.8)
    assert t.best_url == "https://example.com" and t.state == "done"


def test_a_reading_that_runs_past_its_link_into_the_sentence_ends_at_the_link() -> None:
    # The detection ran on past the link: Tesseract reads the sentence's next
    # words too. Squeezing every space out would give "…/debian/stablemain".
    tr = Tracker(TrackerSettings(stable_frames=1))
    t = tr.update([det(0, 0)])[0]
    for _ in range(2):
        tr.add_reading(t, "http://deb.debian.org/debian/ stable main", 0.8)
    assert t.best_url == "http://deb.debian.org/debian/" and t.state == "done"
    assert [lk.url for lk in tr.links()] == ["http://deb.debian.org/debian/"]


def test_wrapped_link_lines_are_grouped() -> None:
    q1 = quad(300, 100, w=300)  # ends a printed line
    q2 = quad(40, 140, w=220)  # starts the next one at the margin
    q3 = quad(40, 300)  # another link further down
    assert is_below(q1, q2, TrackerSettings()) and not is_below(q1, q3, TrackerSettings())
    texts = ["https://example.com/some/", "long-path/index.html", "www.other.org"]
    assert group_lines([q1, q2, q3], texts) == [[0, 1], [2]]
    # Same geometry, but the second line starts a link of its own: no join.
    assert group_lines([q1, q2], ["https://example.com/", "www.other.org"]) == [[0], [1]]
    # A complete link followed by an unrelated line: no join either.
    assert group_lines([q1, q2], ["www.example.com", "and"]) == [[0], [1]]


def test_a_wrapped_link_that_has_ended_takes_no_third_line() -> None:
    # Real documents, maint-guide: "…(https://www.debian.org/MailingLists/" +
    # "subscribe)" is a whole link; the line below ("unsubscribe).", the rest
    # of the next link, whose first line the detector missed) is not its
    # third line, though "subscribe)" alone is no URL.
    first, second, third = quad(300, 100, w=300), quad(40, 140, w=150), quad(40, 180, w=160)
    texts = ["(https://www.debian.org/MailingLists/", "subscribe)", "unsubscribe)."]
    assert group_lines([first, second, third], texts) == [[0, 1], [2]]
    # Nor does a whole link take the rest of the next one (R-admin: the next
    # link's first line, "https://mac.r-project.", was not found).
    texts = ["https://github.com/iains/", "gcc-darwin-arm64", "org/tools/"]
    assert group_lines([first, second, third], texts) == [[0, 1], [2]]
    # A link that has not ended on its second line goes on to its third.
    texts = ["https://www.debian.org/doc/manuals/", "debian-reference/ch02.en.html#_", "the_debian_archive"]
    assert group_lines([first, second, third], texts) == [[0, 1, 2]]


def test_wrapped_link_is_grouped_on_a_curled_page() -> None:
    # Real documents: near a curled edge the line ending a link tilts by 7
    # degrees, the next one starts flat at the margin 650 px to the left.
    # The upper line's tilt alone, carried that far, puts the lower line
    # above it.
    a = np.radians(-7.0)
    ux, uy = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    o = np.array([800.0, 170.0])
    upper = np.array([o - 14 * uy, o + 400 * ux - 14 * uy, o + 400 * ux + 14 * uy, o + 14 * uy], np.float32)
    lower = quad(145, 222, w=115, h=28)
    assert is_below(upper, lower, TrackerSettings())
    assert group_lines([upper, lower], ["https://www.debian.org/CD/", "netinst/"]) == [[0, 1]]
    # Further down the margin, two lines on: not the next line.
    assert not is_below(upper, quad(145, 300, w=115, h=28), TrackerSettings())


def _tilted(start: np.ndarray, length: float, h: float, a: float) -> np.ndarray:
    ux, uy = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    return np.array([start, start + length * ux, start + length * ux + h * uy, start + h * uy], np.float32)


def test_wrapped_link_is_grouped_on_a_tilted_page() -> None:
    # A page turned 8 degrees clockwise (real documents, R-admin p74): the
    # line after a link's first line starts at the left margin, where the
    # page is higher, so its centre is higher in the frame than the first
    # line's. It still comes after it on the page and continues it.
    a = np.radians(8.0)
    ux, uy = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    margin = np.array([100.0, 100.0])
    pitch, h = 36.0, 28.0
    upper = _tilted(margin + 620 * ux, 440, h, a)  # ends the first line
    lower = _tilted(margin + pitch * uy, 180, h, a)  # starts the second
    after = _tilted(margin + 2 * pitch * uy + 300 * ux, 300, h, a)  # a link of its own on the third
    assert lower[:, 1].mean() < upper[:, 1].mean()
    texts = ["https://github.com/iains/", "gcc-darwin-arm64", "https://example.org/x"]
    assert group_lines([upper, lower, after], texts) == [[0, 1], [2]]


def test_a_links_first_line_claims_its_rest_before_the_words_before_it() -> None:
    # Real documents, developers-reference p57: the words before a link on
    # its printed line were detected too and come first; glued to the link's
    # rest they make a valid host name. The line that opens a link (a
    # garbled scheme here) takes the rest.
    prose, first = quad(40, 100, w=300), quad(900, 100, w=160)  # words between them not detected
    rest = quad(40, 136, w=280)
    texts = ["WhenrequestingbinNMUsorgive-backs", "hups://release.", "debian.org/wanna-build.txt."]
    assert sorted(group_lines([prose, first, rest], texts)) == [[0], [1, 2]]


def test_wrapped_piece_continues_the_line_just_above_it() -> None:
    # Tightly set lines (pitch 1.2 heights): the piece on the third line is
    # within the wrap gap of the first line too, which ends in "/"; it
    # continues the second, the line just above it.
    a, b, c = quad(40, 100, w=500), quad(40, 136, w=560), quad(40, 172, w=150)
    texts = ["http://deb.debian.org/debian/", "http://security.debian.org/debian-", "security/"]
    assert is_below(a, c, TrackerSettings())
    assert group_lines([a, b, c], texts) == [[0], [1, 2]]


def test_pieces_of_one_printed_line_are_joined() -> None:
    # The detector broke "https://cr.yp.to/software.html" at '//' and '.'
    # (gaps of a fraction of a line height), and the link wraps onto the next line.
    a, b, c = quad(100, 100, w=60), quad(166, 101, w=210), quad(382, 100, w=60)
    d = quad(40, 140, w=120)
    texts = ["https:", "//cr.yp.to/software", ".html/", "/index.txt"]
    assert group_lines([b, d, c, a], [texts[1], texts[3], texts[2], texts[0]]) == [[3, 0, 2, 1]]
    # The same geometry, but the text says they are separate: a word, then a link.
    assert group_lines([a, b], ["see", "debian.org"]) == [[0], [1]]
    # A piece too far right (3 line heights) is not part of the line.
    assert group_lines([a, quad(250, 100)], ["https:", "//cr.yp.to/software"]) == [[0], [1]]
    assert group_lines([a, b], ["https:", "//cr.yp.to/software"], TrackerSettings(split_gap=0)) == [[0], [1]]
    # Two pieces on top of each other, each able to continue the other: still one group each at most.
    groups = group_lines([quad(100, 100, w=10), quad(105, 100, w=7)], [".a", ".b"])
    assert sorted(k for g in groups for k in g) == [0, 1]


def test_tracker_links_joins_wrapped_tracks_and_hides_non_urls() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1))
    frames = blank()
    tracks = tr.update([det(300, 100, w=300), det(40, 140, w=220), det(40, 300)])
    for t, text in zip(tracks, ["https://example.com/some/", "long-path/index.html", "no link here"]):
        tr.add_reading(t, text, 0.9, frames)
    links = tr.links()
    assert [(lk.url, [t.id for t in lk.tracks]) for lk in links] == [
        ("https://example.com/some/long-path/index.html", [tracks[0].id, tracks[1].id])]


def test_a_link_stays_shown_for_show_missed_frames_after_its_detection_drops() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1, show_missed=1))
    [t] = tr.update([det(100, 100)])
    tr.add_reading(t, "https://example.com", 0.9, blank())
    assert [lk.url for lk in tr.links()] == ["https://example.com"]
    tr.update([])  # one frame without it (motion blur): still shown, at its last place
    [lk] = tr.links()
    assert lk.url == "https://example.com" and lk.shown == [t] and np.array_equal(lk.shown[0].quad, quad(100, 100))
    tr.update([])  # a second: gone
    assert tr.links() == []
    # Back in view: shown again, the same track.
    tr.update([det(102, 101)])
    assert [lk.tracks[0].id for lk in tr.links()] == [t.id]
    # With no hold, a link shows only in frames where its line is detected.
    tr0 = Tracker(TrackerSettings(stable_frames=1, show_missed=0))
    [t0] = tr0.update([det(100, 100)])
    tr0.add_reading(t0, "https://example.com", 0.9, blank())
    tr0.update([])
    assert tr0.links() == []


def test_a_link_followed_on_its_line_does_not_wrap() -> None:
    # "https://pl-how.net/go_roil/bestows-  https://www.x" on one line (the second
    # link runs off the frame, so it has no text), "demographics/" starting the next:
    # that line continues the second link, not the first.
    first, second, below = quad(100, 100, w=300), quad(440, 100, w=150), quad(40, 140, w=240)
    texts = ["https://pl-how.net/go_roil/bestows-", "", "demographics/"]
    assert group_lines([first, below], [texts[0], texts[2]]) == [[0, 1]]  # alone on its line, it wraps
    assert sorted(group_lines([first, second, below], texts)) == [[0], [1], [2]]
    # Further right than wrap_blocked_gap (another column of the page) does not count...
    far = quad(400 + 30 * 3.5, 100, w=150)
    assert group_lines([first, far, below], texts)[0] == [0, 2]
    # ...and 0 turns the rule off.
    assert group_lines([first, second, below], texts, TrackerSettings(wrap_blocked_gap=0))[0] == [0, 2]


def test_a_line_with_a_link_before_it_on_its_line_does_not_continue_the_one_above() -> None:
    # The next line starts with a piece the frame's edge cuts ("…every.io;", no text),
    # then "scouted.it/…": that is not the start of a line, so no wrap.
    above, cut, after = quad(300, 100, w=300), quad(0, 140, w=80), quad(100, 140, w=300)
    texts = ["https://www.updating.pl/floss_", "", "pests/replicated/PlayFunction.jpg"]
    assert group_lines([above, after], [texts[0], texts[2]]) == [[0, 1]]
    assert sorted(group_lines([above, cut, after], texts)) == [[0], [1], [2]]


def test_tracker_links_a_visible_unread_line_ends_the_line_before_it() -> None:
    tr = Tracker(TrackerSettings(stable_frames=1))
    frames = blank()
    tracks = tr.update([det(100, 100, w=300), det(440, 100, w=150), det(40, 140, w=240)])
    for t, text in ((tracks[0], "https://pl-how.net/go_roil/bestows-use/"), (tracks[2], "demographics-thermostats")):
        tr.add_reading(t, text, 0.9, frames)
    assert [lk.url for lk in tr.links()] == ["https://pl-how.net/go_roil/bestows-use/"]
    # Once that line has left the picture (and its track expired), the two lines join again.
    for _ in range(TrackerSettings().max_missed + 1):
        tr.update([det(100, 100, w=300), det(40, 140, w=240)])
    assert [lk.url for lk in tr.links()] == ["https://pl-how.net/go_roil/bestows-use/demographics-thermostats"]
