"""The links-detector command: detect (photos, folders, videos; json, csv,
markdown, annotated pictures), bench, and the bad inputs a user meets.

Everything runs for real: the shipped model through LiteRT, Tesseract
through tesserocr or the tesseract program. main() runs in-process (fast);
one subprocess proves the ``python -m edge_app`` entry point.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import cv2
import numpy as np
import pytest
from sample_truth import (
    CLIP_URLS,
    MIN_EXACT_CLIP,
    MIN_EXACT_PHOTOS,
    MIN_HOST_PHOTOS,
    PHOTO_URLS,
    TRUTH,
    missing_hosts,
    on_link_line,
)

import edge_app
from edge_app.annotate import LINK_COLOR
from edge_app.cli import main
from edge_app.model_spec import default_model_path, sidecar_path
from edge_app.results import quad_iou, quads_box
from edge_app.urls import normalize_url

SAMPLES = Path(edge_app.__file__).parent / "samples"
PAGES = ["page1.jpg", "page2.jpg", "page3.jpg"]
TIMING_KEYS = {"preprocess", "detect", "ocr", "total"}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_user_error(rc: int, err: str, *words: str) -> None:
    """One clear line on stderr, exit status 1, no traceback."""
    assert rc == 1, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("links-detector: error: "), err
    for w in words:
        assert w.lower() in lines[0].lower(), (w, err)


@pytest.fixture(scope="module")
def samples_json() -> list[dict]:
    """`links-detector detect --json` with no PATH: the bundled photos."""
    rc, out, err = run_cli(["detect", "--json"])
    assert rc == 0, err
    return json_lines(out)


@pytest.fixture(scope="module")
def small_jpg(tmp_path_factory) -> Path:
    """A 660x300 crop of page1 around its first link: a quick photo."""
    page = cv2.imread(str(SAMPLES / "page1.jpg"))
    path = tmp_path_factory.mktemp("small") / "small.jpg"
    cv2.imwrite(str(path), page[200:500, 300:960])
    return path


# ---------------------------------------------------------------- contract
def test_json_contract_fields_types_and_input_order(samples_json):
    assert [Path(o["image"]).name for o in samples_json] == PAGES
    for obj in samples_json:
        assert set(obj) == {"image", "width", "height", "links", "timings_ms"}
        assert (obj["width"], obj["height"]) == (1280, 960)
        assert set(obj["timings_ms"]) == TIMING_KEYS
        assert all(isinstance(v, (int, float)) and v >= 0 for v in obj["timings_ms"].values())
        for link in obj["links"]:
            assert set(link) == {"url", "raw", "box", "quads", "score"}
            assert link["url"].startswith(("http://", "https://")) and isinstance(link["raw"], str)
            assert 0.0 <= link["score"] <= 1.0
            assert len(link["box"]) == 4 and link["box"][0] <= link["box"][2] and link["box"][1] <= link["box"][3]
            assert link["quads"] and all(np.asarray(q).shape == (4, 2) for q in link["quads"])
            # The box is the bounding box of the quads, in image pixels.
            assert np.allclose(link["box"], quads_box(link["quads"]), atol=0.2)
            assert 0 <= link["box"][0] and link["box"][2] <= obj["width"] + 1


def test_bundled_samples_every_known_link_is_outlined_and_nothing_else(samples_json):
    """The README's first command, with the shipped model: every printed link
    has a returned quad over one of its lines (whatever Tesseract made of its
    text), and every returned quad lies on a printed link line."""
    for obj in samples_json:
        truth = TRUTH["photos"][Path(obj["image"]).name]
        lines = [np.asarray(q, np.float32) for t in truth for q in t["quads"]]
        got = [np.asarray(q, np.float32) for link in obj["links"] for q in link["quads"]]
        for t in truth:
            assert any(quad_iou(np.asarray(q, np.float32), g) >= 0.5 for q in t["quads"] for g in got), \
                (obj["image"], t["url"], "not outlined")
        for g in got:
            assert on_link_line(g, lines), (obj["image"], g.tolist(), "no link printed there")


def test_bundled_samples_urls_are_read(samples_json):
    """Most known links come back with the right host, many letter for letter
    (the bars and why they are not "all": tests/sample_truth.py)."""
    exact = hosts = total = 0
    for obj in samples_json:
        want = PHOTO_URLS[Path(obj["image"]).name]
        got = [normalize_url(link["url"]) for link in obj["links"]]
        exact += sum(u in got for u in want)
        hosts += len(want) - len(missing_hosts(want, got))
        total += len(want)
    assert total == 10 and exact >= MIN_EXACT_PHOTOS and hosts >= MIN_HOST_PHOTOS, \
        f"{exact} exact, {hosts} hosts right, of {total}"


def test_text_is_the_default_and_names_every_input(small_jpg):
    rc, out, err = run_cli(["detect", str(small_jpg), str(small_jpg)])
    assert rc == 0, err
    assert out.count(str(small_jpg)) == 2 and "660x300" in out
    assert not out.lstrip().startswith("{")


def test_subprocess_entry_point(small_jpg):
    proc = subprocess.run([sys.executable, "-m", "edge_app", "detect", "--json", str(small_jpg)],
                          capture_output=True, text=True, timeout=120, cwd=Path(edge_app.__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    objs = json_lines(proc.stdout)
    assert len(objs) == 1 and objs[0]["image"] == str(small_jpg) and objs[0]["width"] == 660
    assert "Traceback" not in proc.stderr and "XNNPACK" not in proc.stderr  # a quiet, clean run


# ------------------------------------------------------- folders and errors
def test_folder_walk_sorted_with_unreadable_file(tmp_path, small_jpg):
    d = tmp_path / "pages"
    (d / "sub").mkdir(parents=True)
    img = cv2.imread(str(small_jpg))
    cv2.imwrite(str(d / "b.png"), img)
    cv2.imwrite(str(d / "a.jpg"), img)
    cv2.imwrite(str(d / "sub" / "c.jpg"), img)
    (d / "bad.jpg").write_bytes(os.urandom(3000))
    rc, out, err = run_cli(["detect", "--json", str(d)])
    assert rc == 1  # one input failed
    objs = json_lines(out)
    names = [Path(o["image"]).relative_to(d).as_posix() for o in objs]
    assert names == sorted(names) and set(names) == {"a.jpg", "b.png", "bad.jpg", "sub/c.jpg"}
    bad = next(o for o in objs if o["image"].endswith("bad.jpg"))
    assert set(bad) == {"image", "error"} and bad["error"]
    assert all(o["width"] == 660 for o in objs if o is not bad)  # the run went on
    assert "Traceback" not in err and "bad.jpg" in err


def test_missing_path_is_an_error_object_and_the_run_goes_on(small_jpg):
    rc, out, err = run_cli(["detect", "--json", "/nonexistent/page.jpg", str(small_jpg)])
    assert rc == 1
    objs = json_lines(out)
    assert objs[0]["image"] == "/nonexistent/page.jpg" and objs[0]["error"]
    assert objs[1]["image"] == str(small_jpg) and "links" in objs[1]
    assert "Traceback" not in err


def test_empty_folder(tmp_path):
    rc, out, err = run_cli(["detect", str(tmp_path)])
    assert rc == 1
    assert str(tmp_path) in out and "error" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate"],
    ["detect", "--threads", "0"],
    ["detect", "--json", "--format", "csv"],
    ["detect", "--format", "yaml"],
    ["bench", "--frames", "many"],
    ["app", "--quit-after", "-1"],
])
def test_usage_errors_exit_2(argv):
    rc, out, err = run_cli(argv)
    assert rc == 2
    assert "usage:" in err and "Traceback" not in err and out == ""


def test_help_exits_0():
    rc, out, _ = run_cli(["detect", "--help"])
    assert rc == 0 and "--annotate" in out and "--json" in out


# ------------------------------------------------------ environment errors
def test_missing_model(small_jpg):
    rc, out, err = run_cli(["detect", "--model", "/nonexistent.tflite", str(small_jpg)])
    assert_user_error(rc, err, "/nonexistent.tflite", "not found")
    assert out == ""


def test_corrupt_model(tmp_path, small_jpg):
    model = tmp_path / "broken.tflite"
    model.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    shutil.copy(sidecar_path(default_model_path()), sidecar_path(model))
    rc, _, err = run_cli(["detect", "--model", str(model), str(small_jpg)])
    assert_user_error(rc, err, "broken.tflite", "not a valid")


def test_model_without_sidecar(tmp_path, small_jpg):
    model = tmp_path / "lonely.tflite"
    shutil.copy(default_model_path(), model)
    rc, _, err = run_cli(["detect", "--model", str(model), str(small_jpg)])
    assert_user_error(rc, err, "lonely")


def test_missing_tesseract_program(tmp_path, monkeypatch, small_jpg):
    import pytesseract

    # No tesseract on PATH; pytesseract keeps its program name in its
    # module, so pin it to the default and let monkeypatch restore it.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "tesseract")
    rc, _, err = run_cli(["detect", "--engine", "pytesseract", str(small_jpg)])
    assert_user_error(rc, err, "tesseract", "not found")


def test_bogus_tesseract_command(tmp_path, monkeypatch, small_jpg):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", pytesseract.pytesseract.tesseract_cmd)
    rc, _, err = run_cli(["detect", "--engine", "pytesseract", "--tesseract-cmd", str(tmp_path / "no-such-tesseract"),
                          str(small_jpg)])
    assert_user_error(rc, err, "no-such-tesseract")


def test_missing_tessdata(tmp_path, small_jpg):
    rc, _, err = run_cli(["detect", "--engine", "tesserocr", "--tessdata", str(tmp_path), str(small_jpg)])
    assert_user_error(rc, err, "eng.traineddata")


# ----------------------------------------------------------------- formats
def test_csv_and_markdown_list_the_same_links_as_json(tmp_path):
    page = str(SAMPLES / "page1.jpg")
    missing = str(tmp_path / "missing.jpg")
    rc, out, _ = run_cli(["detect", "--json", page])
    assert rc == 0
    urls = [link["url"] for link in json_lines(out)[0]["links"]]

    rc, out, _ = run_cli(["detect", "--format", "csv", page, missing])
    assert rc == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["input", "kind", "url", "raw", "x0", "y0", "x1", "y1", "score", "frames", "error"]
    page_rows = [r for r in rows if r["input"] == page]
    assert [r["url"] for r in page_rows if r["url"]] == urls
    for r in page_rows:
        if r["url"]:
            assert float(r["x0"]) <= float(r["x1"]) and 0 <= float(r["score"]) <= 1
    err_rows = [r for r in rows if r["input"] == missing]
    assert len(err_rows) == 1 and err_rows[0]["error"] and err_rows[0]["url"] == ""

    rc, out, _ = run_cli(["detect", "--format", "markdown", page, missing])
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith("| input |") and set(lines[1]) <= set("|-")
    assert all(ln.startswith("|") and ln.endswith("|") for ln in lines)
    body = lines[2:]
    for url in urls:
        assert any(url.replace("|", "\\|") in ln for ln in body)
    assert any(missing in ln and "error" in ln for ln in body)


def test_annotate_writes_pictures_with_links_drawn(tmp_path):
    page = SAMPLES / "page1.jpg"
    out_dir = tmp_path / "annotated"
    rc, out, err = run_cli(["detect", "--json", "--annotate", str(out_dir), str(page)])
    assert rc == 0, err
    written = out_dir / "page1.links.jpg"
    pic = cv2.imread(str(written))
    assert pic is not None and pic.shape == cv2.imread(str(page)).shape
    links = json_lines(out)[0]["links"]
    # Every link's outline is drawn: the link colour is found along the top
    # edge of each quad.
    for link in links:
        (x0, y0), (x1, y1) = link["quads"][0][0], link["quads"][0][1]
        ts = np.linspace(0.1, 0.9, 9)
        px = [pic[int(round(y0 + t * (y1 - y0))), int(round(x0 + t * (x1 - x0)))].astype(int) for t in ts]
        near = [np.abs(p - np.array(LINK_COLOR)).max() < 60 for p in px]
        assert sum(near) >= 6, (link["url"], px)


# ------------------------------------------------------------------ videos
def test_video_gives_each_link_once_with_its_frames():
    clip = SAMPLES / "demo.mp4"
    rc, out, err = run_cli(["detect", "--json", str(clip)])
    assert rc == 0, err
    (obj,) = json_lines(out)
    assert obj["video"] == str(clip)
    assert obj["frames"] == TRUTH["clip"]["frames"] and abs(obj["fps"] - TRUTH["clip"]["fps"]) < 0.5
    assert {"preprocess", "detect", "ocr", "total"} <= set(obj["timings_ms"])
    urls = [v["url"] for v in obj["links"]]
    assert len(urls) == len(set(urls))  # each distinct link once
    for v in obj["links"]:
        assert set(v) >= {"url", "raw", "frames", "first_box", "score"}
        assert v["frames"] == sorted(set(v["frames"])) and v["frames"]
        assert 0 <= v["frames"][0] and v["frames"][-1] < obj["frames"]
        assert len(v["first_box"]) == 4
    # Needs the shipped model: the clip's fully printed links are all found.
    found = {normalize_url(u) for u in urls}
    assert not missing_hosts(CLIP_URLS, found), (CLIP_URLS, found)
    assert len(CLIP_URLS & found) >= MIN_EXACT_CLIP, (CLIP_URLS, found)


def test_truncated_video_is_reported(tmp_path):
    data = (SAMPLES / "demo.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    rc, out, err = run_cli(["detect", "--json", str(cut)])
    assert rc == 1
    (obj,) = json_lines(out)
    assert obj["video"] == str(cut) and obj["error"]
    assert "Traceback" not in err


# ------------------------------------------------------------------- bench
def test_bench_json_has_the_contract_fields():
    rc, out, err = run_cli(["bench", "--json", "--frames", "10", "--baseline-frames", "2"])
    assert rc == 0, err
    r = json.loads(out)
    hw = r["hardware"]
    assert isinstance(hw["cpu"], str) and hw["cpu"] and hw["cores"] >= 1 and hw["threads"] >= 1
    assert Path(r["model"]["file"]).suffix == ".tflite" and r["model"]["size_bytes"] > 1000
    assert r["frames"] == 10 and (r["width"], r["height"]) == (640, 480)
    for stage in ("preprocess", "detect", "decode", "track", "ocr", "total"):
        s = r["stages_ms"][stage]
        assert 0 <= s["p50"] <= s["p90"]
    assert r["fps"]["overall"] > 0 and r["peak_rss_mb"] > 10
    assert r["ocr_calls"] >= 0 and r["ocr_engine"] in ("tesserocr", "pytesseract")
    b = r["baseline"]
    assert len(b["frames"]) == 2 and all(0 <= i < 10 for i in b["frames"])
    assert b["ms_per_frame"] > 0 and b["speed_ratio"] > 0
    assert b["known_urls"] == 3
    assert 0 <= b["recall"] <= 1 and 0 <= b["ours_recall"] <= 1


def test_bench_text_without_baseline():
    rc, out, err = run_cli(["bench", "--frames", "3", "--no-baseline"])
    assert rc == 0, err
    assert "p50" in out and "live FPS" in out and "peak RSS" in out and "baseline" not in out


def test_bench_missing_source():
    rc, _, err = run_cli(["bench", "--source", "/nonexistent/clip.mp4", "--frames", "2"])
    assert_user_error(rc, err, "/nonexistent/clip.mp4")


def test_bench_empty_url_list(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("# nothing yet\n\n")
    rc, _, err = run_cli(["bench", "--urls", str(urls), "--frames", "2"])
    assert_user_error(rc, err, "urls.txt", "empty")


# ------------------------------------------------------ pieces of commands
def _link(url: str, track: int | None, x: float, score: float = 0.8):
    from edge_app.results import Link

    quad = np.array([[x, 10], [x + 100, 10], [x + 100, 30], [x, 30]], np.float32)
    return Link(url=url, raw=url, quads=[quad], score=score, track_id=track)


def test_video_link_collector_one_entry_per_distinct_link():
    from edge_app.batch import VideoLinkCollector

    c = VideoLinkCollector()
    c.add(0, [_link("https://a.org/x1", 1, 0, 0.6)])  # first reading of track 1 is wrong...
    c.add(1, [_link("https://a.org/xl", 1, 2, 0.9), _link("https://b.org", 2, 300)])
    c.add(2, [_link("https://a.org/xl", 1, 4), _link("https://b.org", 2, 302)])
    c.add(5, [_link("https://b.org", 7, 320)])  # b left and came back: a new track, the same link
    links = c.links()
    assert [v.url for v in links] == ["https://a.org/xl", "https://b.org"]  # ...the voted URL wins
    a, b = links
    assert a.frames == [0, 1, 2] and a.first_box == (0.0, 10.0, 100.0, 30.0) and a.score == pytest.approx(0.9)
    assert b.frames == [1, 2, 5] and b.first_box[0] == 300.0
    assert set(a.to_json()) == {"url", "raw", "frames", "first_box", "score"}


def test_frame_ranges():
    from edge_app.formats import frame_ranges

    assert frame_ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert frame_ranges([3]) == "3" and frame_ranges([]) == ""


def test_baseline_frames_are_spread_over_the_clip():
    from edge_app.bench import _Sampler

    s = _Sampler(4)
    img = np.zeros((2, 2, 3), np.uint8)
    for i in range(100):
        s.offer(i, img)
    picked = [i for i, _ in s.pick()]
    assert len(picked) == 4 and picked == sorted(picked)
    assert picked[0] == 0 and picked[-1] >= 75 and min(np.diff(picked)) >= 16
    assert len(s.kept) <= 8  # bounded memory whatever the clip length
