"""The real-documents validation set: links from a PDF's text layer, through
the independent camera, into the labels training.evaluate reads."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

pymupdf = pytest.importorskip("pymupdf")

from edge_app.urls import normalize_url  # noqa: E402
from training.evaluate import realdocs_items  # noqa: E402
from training.realdocs import (  # noqa: E402
    BuildConfig,
    DocSource,
    RealCameraConfig,
    RealDocsError,
    build,
    page_links,
)

RED = (0.85, 0.0, 0.0)
ONE_LINE = "https://www.example.org/docs/intro.html"
WRAPPED = ("https://example.com/a/very/long/", "path/index.html")
WRAPPED_URL = "https://example.com/a/very/long/path/index.html"
HIDDEN = "https://hidden.example.net/only-an-annotation"


def _make_pdf(path, fonts=("helv", "cour", "tiro")) -> None:
    """Pages with black prose, URLs printed in red (one of them wrapped over
    two lines), distractors, and a link annotation with no printed URL."""
    doc = pymupdf.open()
    for font in fonts:
        page = doc.new_page(width=595, height=842)
        y = 120.0
        size = 15

        def put(x, text, color=(0, 0, 0)):
            page.insert_text((x, y), text, fontsize=size, fontname=font, color=color)
            return x + pymupdf.get_text_length(text, fontname=font, fontsize=size)

        put(60, "Plain prose with e.g. model.json and v2.0.1 in it.")
        y += 24
        x = put(60, "Read (")
        x = put(x, ONE_LINE, RED)
        put(x, ") first.")
        y += 24
        put(60, "An ordinary line of words that runs along here.")
        y += 24
        x = put(60, "See ")
        put(x, WRAPPED[0], RED)
        y += 24
        x = put(60, WRAPPED[1], RED)
        put(x, " for the details.")
        y += 24
        put(60, "Click here to open a page.")
        page.insert_link({"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(90, y - 14, 130, y + 4), "uri": HIDDEN})
        y += 24
        put(60, "The end of this short page of text.")
    doc.save(str(path))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("realdocs")
    pdf = root / "doc.pdf"
    _make_pdf(pdf)
    # Milder sensor noise than the default so red glyphs can be told from
    # coloured noise; the geometry under test is the default one.
    cam = RealCameraConfig(full_well=(600.0, 1500.0), sharpen=(0.0, 0.3))
    rep = build([DocSource(pdf, "local", "-")], root / "set", BuildConfig(images=6, seed=1, camera=cam),
                progress=False)
    rows = [json.loads(x) for x in (root / "set" / "labels.jsonl").read_text().splitlines()]
    return pdf, root / "set", rep, rows


def test_text_layer_links(tmp_path):
    pdf = tmp_path / "one.pdf"
    _make_pdf(pdf, fonts=("helv",))
    links = page_links(pymupdf.open(pdf)[0])
    by_url = {ln.normalized: ln for ln in links}
    assert set(by_url) == {normalize_url(ONE_LINE), normalize_url(WRAPPED_URL)}
    one = by_url[normalize_url(ONE_LINE)]
    assert one.parts == [ONE_LINE] and len(one.boxes) == 1  # brackets and ")" not in the box
    wrapped = by_url[normalize_url(WRAPPED_URL)]
    assert wrapped.parts == list(WRAPPED) and len(wrapped.boxes) == 2
    assert wrapped.boxes[1][1] > wrapped.boxes[0][3] - 1  # the second part is on the next line
    assert not any(ln.ambiguous for ln in links)


def test_build_writes_what_the_evaluator_reads(built):
    _pdf, out, rep, rows = built
    assert rep.images == len(rows) == 6 and rep.links >= 6
    assert rep.line_quads == sum(len(ln["quads"]) for r in rows for ln in r["links"])
    items = list(realdocs_items(out))
    assert len(items) == 6
    for item, row in zip(items, rows):
        assert item.image.shape[:2] == (row["height"], row["width"])
        assert len(item.links) == len(row["links"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["report"]["images"] == 6 and manifest["seed"] == 1
    # A set built this way can also be a tuning split, pooled with synthetic ones.
    from training.evaluate import tuning_items
    pooled = list(tuning_items(f"{out},{out}", limit=2))
    assert [it.name for it in pooled] == [it.name for it in items[:2]] * 2


def test_labels_are_the_printed_urls(built):
    _pdf, _out, _rep, rows = built
    expected = {normalize_url(ONE_LINE): [ONE_LINE], normalize_url(WRAPPED_URL): list(WRAPPED)}
    seen_whole_wrapped = False
    for row in rows:
        assert row["links"], "every view is aimed at a link"
        for ln in row["links"]:
            assert ln["normalized"] in expected and normalize_url(ln["url"]) == ln["normalized"]
            assert HIDDEN not in ln["normalized"]
            if not ln["partial"]:
                assert ln["parts"] == expected[ln["normalized"]]
                assert len(ln["quads"]) == len(ln["parts"])
                seen_whole_wrapped |= len(ln["quads"]) == 2
    assert seen_whole_wrapped


def test_quads_hold_the_url_glyphs(built):
    """Render check: the red (URL) pixels of each photo lie inside the label
    quads, and every whole link's quad has red glyphs in it."""
    _pdf, out, _rep, rows = built
    inside_total = red_total = 0
    for row in rows:
        img = cv2.imread(str(out / row["image"])).astype(np.int16)
        b, g, r = img[..., 0], img[..., 1], img[..., 2]
        red = ((r - np.maximum(g, b)) > 45).astype(np.uint8)
        red = cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # lone noise pixels
        mask = np.zeros(red.shape, np.uint8)
        for ln in row["links"]:
            for q in ln["quads"]:
                cv2.fillPoly(mask, [np.round(np.array(q)).astype(np.int32)], 1)
        mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))  # blur spreads a glyph by a pixel or two
        inside_total += int((red & mask).sum())
        red_total += int(red.sum())
        for ln in row["links"]:
            if ln["partial"]:
                continue
            for q in ln["quads"]:
                one = np.zeros(red.shape, np.uint8)
                cv2.fillPoly(one, [np.round(np.array(q)).astype(np.int32)], 1)
                assert (red & one).sum() >= max(15, 0.02 * one.sum()), (row["image"], ln["url"])
    assert red_total > 500
    assert inside_total / red_total >= 0.97


def test_no_links_is_a_clear_error(tmp_path):
    pdf = tmp_path / "plain.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "No links on this page at all.", fontsize=12)
    doc.save(str(pdf))
    with pytest.raises(RealDocsError, match="no printed URLs"):
        build([DocSource(pdf, "local", "-")], tmp_path / "set", BuildConfig(images=2), progress=False)


@pytest.mark.parametrize("k1", [-0.14, 0.0, 0.08])
def test_lens_model_round_trips_over_the_frame(k1):
    from training.realdocs import View

    view = View(np.eye(3), k1, (1280, 960))
    grid = np.stack(np.meshgrid(np.linspace(-50, 1330, 24), np.linspace(-50, 1010, 24)), -1).reshape(-1, 2)
    np.testing.assert_allclose(view.distort(view.undistort(grid)), grid, atol=1e-3)


def test_a_steep_view_of_a_pages_foot_still_labels_its_links():
    """Aimed low on a page and tilted, the camera puts the page's origin
    behind it; the links in view are labelled all the same (they were all
    dropped when the homography's sign followed the origin's depth)."""
    from training.realdocs import PageLink, _labels_for, box_quad, pose_camera

    cam = RealCameraConfig()
    centre, box = (420.0, 690.0), (360.0, 684.0, 480.0, 694.0)  # a link line at the aimed point
    link = PageLink("https://example.org/a", "https://example.org/a", ["https://example.org/a"], [box])
    behind = 0
    for seed in range(60):
        view = pose_camera(np.random.default_rng(seed), centre, 2.0, (800, 600), cam)
        origin_w, centre_w = (view.homography @ np.array([[0.0, 0, 1], [centre[0], centre[1], 1]]).T)[2]
        behind += origin_w < 0 < centre_w
        q = view.forward(box_quad(box))
        if (q >= 0).all() and (q[:, 0] <= 800).all() and (q[:, 1] <= 600).all():
            [label] = _labels_for(view, [link])
            assert not label["partial"] and len(label["quads"]) == 1
    assert behind > 0  # the case under test came up


def test_label_quads_stay_near_the_frame(built):
    """A line that runs far out of the frame is cut near it, never projected
    through the lens model where it does not hold (wild quads)."""
    _pdf, _out, _rep, rows = built
    for row in rows:
        w, h = row["width"], row["height"]
        r0 = np.hypot(w / 2, h / 2)
        for ln in row["links"]:
            for q in ln["quads"]:
                q = np.array(q)
                assert (np.hypot(q[:, 0] - w / 2, q[:, 1] - h / 2) < 1.45 * r0).all()
                assert abs(np.linalg.norm(q[3] - q[0]) - np.linalg.norm(q[2] - q[1])) < 0.5 * np.linalg.norm(q[3] - q[0]) + 2


def test_same_seed_same_set(tmp_path):
    pdf = tmp_path / "doc.pdf"
    _make_pdf(pdf, fonts=("tiro",))
    outs = []
    for k in range(2):
        build([DocSource(pdf, "local", "-")], tmp_path / f"set{k}", BuildConfig(images=2, seed=5), progress=False)
        outs.append(tmp_path / f"set{k}")
    assert (outs[0] / "labels.jsonl").read_text() == (outs[1] / "labels.jsonl").read_text()
    for f in sorted((outs[0] / "images").iterdir()):
        assert f.read_bytes() == (outs[1] / "images" / f.name).read_bytes()


def test_camera_ablation_variants_each_switch_something_off() -> None:
    from dataclasses import replace

    from training.camera_ablation import VARIANTS

    full = RealCameraConfig()
    assert VARIANTS["full"] == {}
    for name, change in VARIANTS.items():
        cam = replace(full, **change)  # a misspelt field raises here
        assert (cam != full) == (name != "full"), name


@pytest.mark.parametrize("marker", ["2", "[3]", "12."])
def test_a_line_marker_opening_the_next_line_is_not_the_urls_rest(tmp_path, marker):
    """A URL that ends a line, followed by a listing's line number or a
    reference marker: the text rule alone would join them (".../1.0/" + "2")."""
    url = "https://www.debian.org/doc/packaging-manuals/format/1.0/"
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    size, y = 11, 120.0
    lines = ["A line of prose that is as wide as the column of text on this page,",
             "Format: " + url, f"{marker} Upstream-Name: something else entirely here and",
             "the last line of the paragraph, which is as wide as the first one."]
    width = max(pymupdf.get_text_length(t, fontname="cour", fontsize=size) for t in lines)
    for t in lines:
        # Flush right like a justified column, so the URL reaches the block's right edge.
        x = 60 + width - pymupdf.get_text_length(t, fontname="cour", fontsize=size) if t.startswith("Format") else 60
        page.insert_text((x, y), t, fontsize=size, fontname="cour")
        y += 16
    pdf = tmp_path / "listing.pdf"
    doc.save(str(pdf))
    links = page_links(pymupdf.open(pdf)[0])
    assert [ln.parts for ln in links] == [[url]]


def test_evaluate_reports_each_real_set_and_their_pool(built, tmp_path, capsys):
    """Several real sets (one draw of pages and views is noisy): each reported, then their counts added up."""
    import shutil

    from training.evaluate import main as evaluate_main

    _pdf, folder, _rep, _rows = built
    other = tmp_path / "second"
    shutil.copytree(folder, other)
    # Drop the second copy's first image: the pool must add two different sets' counts.
    rows = (other / "labels.jsonl").read_text().splitlines()
    (other / "labels.jsonl").write_text("\n".join(rows[1:]) + "\n")
    evaluate_main(["--model", "ceiling", "--realdocs", f"{folder},{other}", "--out", str(tmp_path / "out")])
    metrics = json.loads((tmp_path / "out" / "metrics_ceiling.json").read_text())
    a, b, pool = metrics[f"realdocs {folder}"], metrics[f"realdocs {other}"], metrics["realdocs pooled"]
    assert a["line_quads"] > b["line_quads"] > 0
    for k in ("tp", "fp", "fn", "images", "line_quads"):
        assert pool[k] == a[k] + b[k], k
    assert pool["recall_by"]["all"]["n"] == a["recall_by"]["all"]["n"] + b["recall_by"]["all"]["n"]
    assert "realdocs pooled: P=" in capsys.readouterr().out


@pytest.mark.parametrize("end, start, parts", [
    # A word ending the line above: glued to the link ("athttps://") the URL rules cut it off.
    ("at", "https://example.org/guide/ for more.", ["https://example.org/guide/"]),
    # A bracketed link ending its line: the next line's first word is the sentence's.
    ("(https://example.org/a)", "of the manual, and more words.", ["https://example.org/a"]),
    # A bare scheme ending the line above is the link's.
    ("https://", "example.org/guide/ for more.", ["https://", "example.org/guide/"]),
])
def test_the_sentences_words_around_a_link_are_not_its_lines(tmp_path, end, start, parts):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    size, y = 11, 120.0
    lines = ["A line of prose that is as wide as the column of text on this page,",
             "and this line of the paragraph ends with " + end, start,
             "the last line of the paragraph, which is as wide as the first one."]
    width = max(pymupdf.get_text_length(t, fontname="cour", fontsize=size) for t in (lines[0], lines[3]))
    for i, t in enumerate(lines):
        # Flush right like a justified column, so the line ending reaches the block's right edge.
        x = 60 + width - pymupdf.get_text_length(t, fontname="cour", fontsize=size) if i == 1 else 60
        page.insert_text((x, y), t, fontsize=size, fontname="cour")
        y += 16
    pdf = tmp_path / "sentence.pdf"
    doc.save(str(pdf))
    links = page_links(pymupdf.open(pdf)[0])
    assert [ln.parts for ln in links] == [parts]


@pytest.mark.parametrize("line, part", [
    ("Follow us: silfonts](http://twitter.com/silfonts) on the web.", "http://twitter.com/silfonts"),
    ("See \\url{http://www.example.org/crypto.html} for more.", "http://www.example.org/crypto.html"),
])
def test_a_links_box_starts_at_its_scheme_when_a_word_is_glued_before_it(tmp_path, line, part):
    doc = pymupdf.open()
    doc.new_page(width=595, height=842).insert_text((60, 120), line, fontsize=11, fontname="cour")
    pdf = tmp_path / "glued.pdf"
    doc.save(str(pdf))
    assert [ln.parts for ln in page_links(pymupdf.open(pdf)[0])] == [[part]]


def test_a_page_is_filmed_as_a_pan_with_its_whole_links_listed(tmp_path):
    from training.realdocs import film_page

    pdf = tmp_path / "one.pdf"
    _make_pdf(pdf, fonts=("helv",))
    page = pymupdf.open(pdf)[0]
    links = page_links(page)
    target = next(ln for ln in links if len(ln.boxes) == 2)
    cam = RealCameraConfig(full_well=(600.0, 1500.0), sharpen=(0.0, 0.3))

    def film(name: str) -> tuple[list[str], list[np.ndarray]]:
        urls = film_page(np.random.default_rng(3), page, links, target, (640, 360), tmp_path / name, frames=4, cam=cam)
        cap = cv2.VideoCapture(str(tmp_path / name))
        frames = []
        while (got := cap.read())[0]:
            frames.append(got[1])
        cap.release()
        return urls, frames

    urls, frames = film("a.mp4")
    assert len(frames) == 4 and frames[0].shape == (360, 640, 3)
    # The aimed-at wrapped link stays whole in view through the pan; the
    # view moves (a pan, not a still), and one seed films the same clip.
    assert WRAPPED_URL in urls and set(urls) <= {ONE_LINE, WRAPPED_URL}
    assert np.abs(frames[0].astype(np.int16) - frames[-1].astype(np.int16)).mean() > 2
    urls_again, frames_again = film("b.mp4")
    assert urls_again == urls and all(np.array_equal(a, b) for a, b in zip(frames, frames_again))


def test_the_far_camera_puts_a_link_small_in_a_large_frame():
    """--camera far: a whole-page photo, the link line a few pixels per 640
    of the long side (the near camera: 13-38), in a 2-12 megapixel frame."""
    from training.realdocs import CAMERAS, PageLink, aim_camera, box_quad

    assert CAMERAS["near"] == RealCameraConfig()  # the default builds what it always built
    box = (100.0, 400.0, 300.0, 410.0)  # a 10 pt line on an A4 page
    link = PageLink("https://example.org/a", "https://example.org/a", ["https://example.org/a"], [box])
    per_640 = {}
    for name, cam in CAMERAS.items():
        rng = np.random.default_rng(3)
        heights = []
        for _ in range(20):
            size = cam.out_sizes[int(rng.integers(len(cam.out_sizes)))]
            view = aim_camera(rng, link, size, cam)
            assert view is not None
            q = view.forward(box_quad(box))
            heights.append((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2 * 640 / max(size))
        per_640[name] = float(np.median(heights))
    assert min(min(s) for s in CAMERAS["far"].out_sizes) >= 1536 and 4 <= per_640["far"] <= 13 <= per_640["near"], per_640
