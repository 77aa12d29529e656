"""The whole pipeline with the shipped model and the real Tesseract.

The OCR-budget test holds for any detector: the tracker bounds how often a
line is read. The known-URL tests need a detector that finds the links; they
are written for the shipped model (bars: tests/sample_truth.py).
"""

from __future__ import annotations

import json
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

from edge_app.detector import DetectorSettings
from edge_app.line_fit import FitSettings
from edge_app.model_spec import default_model_path
from edge_app.pipeline import Pipeline, PipelineSettings, dedupe, take_page_scheme
from edge_app.reader import ReaderSettings
from edge_app.results import Link
from edge_app.sources import SAMPLES_DIR, open_source, read_image
from edge_app.tracking import TrackerSettings
from edge_app.urls import normalize_url

STAGES = {"preprocess", "detect", "decode", "track", "ocr", "total"}


@pytest.fixture(scope="module")
def clip_run() -> dict:
    """One pass of the live pipeline over the 40-frame demo clip."""
    with Pipeline(PipelineSettings(reader=ReaderSettings(engine="tesserocr"))) as pipe, \
            open_source("demo") as src:
        results, calls = [], []
        for frame in src:
            before = pipe.ocr_calls
            results.append(pipe.process(frame.image))
            calls.append(pipe.ocr_calls - before)
        return {"results": results, "calls": calls, "ocr_calls": pipe.ocr_calls}


def test_clip_results_are_well_formed(clip_run: dict) -> None:
    results = clip_run["results"]
    assert len(results) == 40
    for r in results:
        assert (r.width, r.height) == (640, 480)
        assert STAGES <= set(r.timings_ms) and all(v >= 0 for v in r.timings_ms.values())
        for link in r.links:
            assert normalize_url(link.url) == link.url and link.track_id is not None and link.quads


def test_clip_reads_lines_a_bounded_number_of_times(clip_run: dict) -> None:
    # Reading every detection of every frame would cost sum(detections)
    # Tesseract calls; tracking reads each line a few times in its life.
    per_frame_cost = sum(len(r.detections) for r in clip_run["results"])
    assert per_frame_cost > 100  # the clip does have lines to read
    assert clip_run["ocr_calls"] < 0.5 * per_frame_cost, (clip_run["ocr_calls"], per_frame_cost)
    assert sum(clip_run["calls"]) == clip_run["ocr_calls"]


def test_tracker_never_exceeds_max_reads_per_line() -> None:
    settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr", fallback=None),
                                tracker=TrackerSettings(max_reads=2, stable_frames=1, max_missed=100))
    with Pipeline(settings) as pipe, open_source("demo") as src:
        frames = [f.image for _, f in zip(range(12), src)]
        for img in frames:
            pipe.process(img)
        tracks = pipe.tracker.tracks  # max_missed=100: none expired, every track is here
        assert all(len(t.readings) <= 2 for t in tracks)
        # Without the fallback, at most one Tesseract call per reading (a
        # degenerate quad is recorded as an empty reading without a call).
        readings = sum(len(t.readings) for t in tracks)
        assert 0 < pipe.ocr_calls <= readings <= 2 * len(tracks)


def test_clip_finds_each_known_url(clip_run: dict) -> None:
    found = {link.url for r in clip_run["results"] for link in r.links}
    assert not missing_hosts(CLIP_URLS, found), f"missing {missing_hosts(CLIP_URLS, found)}; found {found}"
    assert len(CLIP_URLS & found) >= MIN_EXACT_CLIP, f"exact {CLIP_URLS & found}; found {found}"


def test_clip_link_keeps_its_track_id(clip_run: dict) -> None:
    ids: dict[str, set[int]] = {}
    for r in clip_run["results"]:
        for link in r.links:
            if link.url in CLIP_URLS:
                ids.setdefault(link.url, set()).add(link.track_id)
    assert ids and all(len(v) <= 2 for v in ids.values()), ids


def test_photo_mode_returns_the_known_urls(photo_pipeline: Pipeline) -> None:
    # The bars and why they are not "all the links exactly": tests/sample_truth.py.
    # Every link returned must lie on a printed link line.
    exact = hosts = total = 0
    for name, want in sorted(PHOTO_URLS.items()):
        result = photo_pipeline.process_photo(read_image(SAMPLES_DIR / name))
        assert STAGES <= set(result.timings_ms)
        got = [link.url for link in result.links]
        exact += sum(u in got for u in want)
        hosts += len(want) - len(missing_hosts(want, got))
        total += len(want)
        lines = [np.asarray(q, np.float32) for t in TRUTH["photos"][name] for q in t["quads"]]
        for link in result.links:
            assert all(on_link_line(q, lines) for q in link.quads), f"{name}: {link.url} not printed"
    assert total == 10 and exact >= MIN_EXACT_PHOTOS and hosts >= MIN_HOST_PHOTOS, \
        f"{exact} exact, {hosts} hosts right, of {total}"


@pytest.fixture(scope="module")
def photo_pipeline() -> Pipeline:
    with Pipeline(PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False)) as pipe:
        yield pipe


def test_photo_mode_reads_the_lines_of_a_wrapped_link_once() -> None:
    # page2 has links printed over two and three lines. A line that is part of
    # a returned link needs no second look; only lines left alone may get one.
    # (The extra looks at other heights are off here: counted separately below.)
    settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False, photo_heights=(),
                                photo_gray=False)
    with Pipeline(settings) as pipe:
        result = pipe.process_photo(read_image(SAMPLES_DIR / "page2.jpg"))
        reads = pipe.ocr_calls
    in_links = sum(len(link.quads) for link in result.links)
    assert any(len(link.quads) > 1 for link in result.links), [link.url for link in result.links]
    assert len(result.detections) <= reads <= 2 * len(result.detections) - in_links, (reads, in_links)


@pytest.mark.parametrize("sure, heights, gray", [(1.01, (48, 80), True), (1.01, (48, 80), False),
                                                (1.01, (56,), False), (1.01, (), True), (0.0, (), False)])
def test_photo_mode_reads_doubtful_links_again_at_each_extra_look(sure: float, heights: tuple[int, ...],
                                                                  gray: bool) -> None:
    # photo_sure above 1: every link is doubtful, so every line is read once
    # more per extra height and once more in gray; no extra looks: every
    # line read exactly once.
    reader = ReaderSettings(engine="tesserocr", fallback=None)
    settings = PipelineSettings(reader=reader, track=False, photo_heights=heights, photo_gray=gray, photo_sure=sure)
    with Pipeline(settings) as pipe:
        result = pipe.process_photo(read_image(SAMPLES_DIR / "page2.jpg"))
        assert result.detections
        assert pipe.ocr_calls == len(result.detections) * (1 + len(heights) + gray)


def test_photo_mode_extra_looks_do_not_lose_links() -> None:
    # Voting over the readings may only change links it doubts: on the
    # bundled photos it finds at least the exact URLs one look finds.
    def exact(heights: tuple[int, ...], gray: bool = True) -> int:
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False, photo_heights=heights,
                                    photo_gray=gray)
        with Pipeline(settings) as pipe:
            return sum(len({k.url for k in pipe.process_photo(read_image(SAMPLES_DIR / name)).links} & set(PHOTO_URLS[name]))
                       for name in PHOTO_URLS)

    assert exact((48, 80)) >= exact((48, 80), gray=False) >= exact((), gray=False)


def test_photo_mode_cuts_its_lines_out_as_photo_fit_says() -> None:
    # A band squeezed to 0.4 of the ink's height cuts every glyph's top and
    # bottom off: if photo mode's reads used it, page1's links read no more.
    def exact(fit: FitSettings) -> int:
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False, photo_fit=fit)
        with Pipeline(settings) as pipe:
            got = {k.url for k in pipe.process_photo(read_image(SAMPLES_DIR / "page1.jpg")).links}
        return len(got & set(PHOTO_URLS["page1.jpg"]))

    assert PipelineSettings().photo_fit.band_scale < FitSettings().band_scale  # tighter than video's
    assert exact(PipelineSettings().photo_fit) >= 2 > exact(FitSettings(band_scale=0.4))


@pytest.mark.parametrize("first, rest", [("http://example.org/a", "http"), ("https://example.org/a", "https"),
                                         ("", "https")])
def test_a_link_that_lost_its_scheme_takes_the_one_the_pages_links_print(first: str, rest: str) -> None:
    # "//www.example.com/docs" opens a line: the scheme ended the line above
    # and was not read. The page's other link says which one it was; with
    # none, the URL rules' guess (https) stands.
    from printed_lines import printed_lines

    lines = [first or "nothing here", "//www.example.com/docs"]
    page, quad = printed_lines(lines)
    quads = [quad(0, 0, len(lines[0])), quad(1, 0, len(lines[1]))]
    with Pipeline(PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False)) as pipe:
        read = pipe.read_links(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), quads, groups=[[0], [1]])
    assert [r.url for r in read] == [first or None, f"{rest}://www.example.com/docs"]


def test_take_page_scheme_changes_only_the_links_that_lost_theirs() -> None:
    raws = ["http://a.org/x", "//www.b.org/y", "www.c.org", "//d", "junk"]
    urls = ["http://a.org/x", "https://www.b.org/y", "https://www.c.org", None, None]
    assert take_page_scheme(raws, urls) == ["http://a.org/x", "http://www.b.org/y", "https://www.c.org", None, None]
    assert take_page_scheme(raws[1:], urls[1:]) == urls[1:]  # no link prints a scheme: the guess stands


def test_photo_mode_keeps_no_state(photo_pipeline: Pipeline) -> None:
    img = read_image(SAMPLES_DIR / "page1.jpg")
    a = photo_pipeline.process_photo(img)
    b = photo_pipeline.process_photo(img)
    assert [k.url for k in a.links] == [k.url for k in b.links]
    assert photo_pipeline.tracker.tracks == []
    assert all(k.track_id is None for k in a.links)


def test_dedupe_keeps_same_url_in_two_places() -> None:
    def link(url: str, x: float, score: float) -> Link:
        q = np.array([[x, 0], [x + 100, 0], [x + 100, 20], [x, 20]], np.float32)
        return Link(url, url, [q], score)

    links = [link("https://a.org/", 0, 0.5), link("https://a.org/", 5, 0.9), link("https://a.org/", 400, 0.7)]
    kept = dedupe(links)
    assert [(k.box[0], k.score) for k in kept] == [(5.0, 0.9), (400.0, 0.7)]


def test_dedupe_keeps_same_url_on_two_lines_of_a_tilted_page() -> None:
    # A listing's lines 20 px apart on a page turned 4 degrees: the lines'
    # boxes overlap over half their area, the lines themselves do not.
    def line(y: float) -> np.ndarray:
        t = np.deg2rad(4.0)
        along, down = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
        o = np.array([50.0, y])
        return np.array([o, o + 400 * along, o + 400 * along + 16 * down, o + 16 * down], np.float32)

    links = [Link("https://a.org/", "https://a.org/", [line(0)], 0.9),
             Link("https://a.org/", "https://a.org/", [line(20)], 0.8)]
    assert len(dedupe(links)) == 2
    assert len(dedupe([links[0], Link("https://a.org/", "", [line(3)], 0.5)])) == 1


def test_wrapped_links_on_true_quads_are_joined() -> None:
    # Independent of the detector: the photos' true line quads, read by the
    # real Tesseract, grouped by the pipeline's rule. Page 2 has links over
    # 3 and 2 lines, page 3 one over 2 lines; every group must be exactly
    # one printed link. (True quads need no fitting to the printed line.)
    from edge_app.reader import LineReader
    from edge_app.tracking import group_lines
    from edge_app.urls import squeeze_line

    with LineReader(ReaderSettings(engine="tesserocr", fit_lines=False)) as reader:
        for name, links in TRUTH["photos"].items():
            quads = [np.array(q, np.float32) for link in links for q in link["quads"]]
            owner = [i for i, link in enumerate(links) for _ in link["quads"]]
            texts = [squeeze_line(r.text) for r in reader.read_lines(read_image(SAMPLES_DIR / name), quads)]
            groups = group_lines(quads, texts)
            assert sorted([owner[i] for i in g] for g in groups) == \
                [[i] * len(link["quads"]) for i, link in enumerate(links)], (name, texts)


def test_photo_mode_adds_the_lines_a_larger_input_finds() -> None:
    # Page 2 as if photographed from further away (40% of its size): the
    # shipped model's map at the 960 input then finds 8 lines, and 1280 one
    # more. (With the line check both sizes find the same 8 here.)
    img = cv2.resize(read_image(SAMPLES_DIR / "page2.jpg"), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    reader = ReaderSettings(engine="tesserocr")
    detector = DetectorSettings(use_check=False)
    with Pipeline(PipelineSettings(detector=detector, reader=reader, track=False, photo_long_sides=())) as pipe:
        one = pipe.process_photo(img)
    with Pipeline(PipelineSettings(detector=detector, reader=reader, track=False,
                                   photo_long_sides=(1280,))) as pipe:
        two = pipe.process_photo(img)
    # Every line of the single-size run is kept as it was, and the larger
    # input's lines that overlap none of them are added.
    kept = [any(np.array_equal(d.quad, e.quad) for e in two.detections) for d in one.detections]
    assert all(kept) and len(two.detections) > len(one.detections)


def test_photo_modes_extra_size_keeps_its_lines_at_the_photo_bars(tmp_path: Path) -> None:
    # Page 2 at half its size: with the shipped check, the 1280 input adds a
    # line the 960 one missed. With photo bars no probability reaches (every
    # extra candidate asked, by the veto, and dropped) it adds nothing.
    for stem in ("links_detector", "line_check"):
        for ext in (".tflite", ".json"):
            (tmp_path / f"{stem}{ext}").write_bytes((default_model_path().parent / f"{stem}{ext}").read_bytes())
    sidecar = tmp_path / "line_check.json"
    spec = json.loads(sidecar.read_text())
    img = cv2.resize(read_image(SAMPLES_DIR / "page2.jpg"), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    detector = DetectorSettings(model_path=tmp_path / "links_detector.tflite")
    reader = ReaderSettings(engine="tesserocr")

    def quads(sides: tuple[int, ...], **bars: float | None) -> list[list[list[float]]]:
        sidecar.write_text(json.dumps({**spec, **bars}))
        with Pipeline(PipelineSettings(detector=detector, reader=reader, track=False, photo_long_sides=sides)) as pipe:
            return [d.quad.tolist() for d in pipe.process_photo(img).detections]
    one = quads(())
    assert len(quads((1280,), photo_keep=None, photo_veto=None)) > len(one)
    assert quads((1280,), photo_keep=1.01, photo_veto=1.01) == one


def test_photo_mode_reads_on_past_a_dot_the_detection_stopped_at() -> None:
    # "http://www.example." then a gap wider than fitting's word gap (a
    # monospaced dot's cell), then "com": a quad ending in that gap is read cut
    # at the dot. Read again with its end carried onto the next glyph, the
    # link is whole; without that second read it is no URL.
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.8, 2
    page = np.full((120, 700), 240, np.uint8)
    head, x, y = "see http://www.example.", 40, 60
    cv2.putText(page, head, (x, y), font, scale, 20, thick, cv2.LINE_AA)
    (w, h), base = cv2.getTextSize(head, font, scale, thick)
    cv2.putText(page, "com for more", (x + w + int(0.3 * h), y), font, scale, 20, thick, cv2.LINE_AA)
    x0 = x + cv2.getTextSize("see ", font, scale, thick)[0][0]
    quad = np.array([[x0, y - h], [x + w, y - h], [x + w, y + base], [x0, y + base]], np.float32)
    frame = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    got = {}
    for reach in (None, 0.5):
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False, dot_reach=reach)
        with Pipeline(settings) as pipe:
            [got[reach]] = pipe.read_links(frame, [quad])
    assert got[None].url is None
    assert got[0.5].url == "http://www.example.com"
    assert got[0.5].quads[0][1][0] > quad[1][0]  # the outline reaches on too
