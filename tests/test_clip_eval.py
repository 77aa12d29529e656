"""Held-out clips: made the same every time, measured with the real pipeline."""

import json
from pathlib import Path

from edge_app.pipeline import Pipeline
from training.clip_eval import TRUTH, make_clips, run_clips


def test_clips_are_reproducible_and_measured(tmp_path: Path) -> None:
    a = make_clips(tmp_path / "a", count=1, seed=5000, frames=6)
    b = make_clips(tmp_path / "b", count=1, seed=5000, frames=6)
    assert a == b and a[0]["urls"]
    assert json.loads((tmp_path / "a" / TRUTH).read_text()) == a
    blurred = make_clips(tmp_path / "c", count=1, seed=5000, frames=6, motion_blur=True)
    assert blurred[0]["motion_blur"] and blurred[0]["seed"] == a[0]["seed"]
    assert (tmp_path / "a" / a[0]["file"]).read_bytes() != (tmp_path / "c" / blurred[0]["file"]).read_bytes()
    with Pipeline() as pipe:
        res = run_clips(tmp_path / "a", pipe, progress=False)
    clip = res.per_clip[0]
    assert (res.clips, res.frames, clip.frames) == (1, 6, 6)
    assert res.links == len(a[0]["urls"]) and 0.0 <= res.recall_per_frame <= 1.0
    # Lines are read (the tracker reads a new line once it was seen twice), and each
    # known link counted as exact is one the clip's truth holds.
    assert clip.line_reads > 0 and clip.exact <= res.links and not set(clip.other) & set(clip.urls)


def test_larger_clips_show_the_same_view_with_more_pixels(tmp_path: Path) -> None:
    import cv2

    small = make_clips(tmp_path / "s", count=1, seed=5000, frames=2)
    big = make_clips(tmp_path / "b", count=1, seed=5000, frames=2, size=(1280, 960))
    assert big[0]["size"] == [1280, 960] and small[0]["size"] == [640, 480]
    cap = cv2.VideoCapture(str(tmp_path / "b" / big[0]["file"]))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape[:2] == (960, 1280)
    # The same page and pan at twice the pixels: the same links stay in view.
    assert big[0]["urls"] == small[0]["urls"]
