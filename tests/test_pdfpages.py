"""Training frames from real PDF pages: links from the text layer, through the
training camera, into shards the trainer reads; never the validation packages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pymupdf = pytest.importorskip("pymupdf")

from training.pdfpages import TRAIN2_PACKAGES, TRAIN_PACKAGES, TUNE_PACKAGES, PdfPagesConfig, PdfPageSynthesizer, build_index  # noqa: E402
from training.synth import IGNORE, targets  # noqa: E402
from training.realdocs import DOC_PACKAGES, TUNE_DOC_PACKAGES, DocSource  # noqa: E402
from training.shards import build, digest, read_dataset  # noqa: E402

URLS = ("https://www.example.org/docs/intro.html", "http://tug.org/texlive")
BARE = "R.app"  # a bare host no annotation confirms: text, never a link label


def _make_pdf(path, link_color=(0, 0, 0)) -> None:
    doc = pymupdf.open()
    for font in ("helv", "tiro"):
        page = doc.new_page(width=595, height=842)
        y = 140.0
        for text in ["Some prose before the link.", URLS[0], "Another line of words here.",
                     f"Start {BARE} to try it.", URLS[1], "Read model.json or doi:10.1000/182 first."]:
            color = link_color if text in URLS else (0, 0, 0)
            page.insert_text((70, y), text, fontsize=14, fontname=font, color=color)
            y += 22
    doc.new_page(width=595, height=842).insert_text((70, 140), "A page with no link at all.", fontsize=14)
    doc.save(str(path))


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    """The same pages twice: links printed in black, and in white (the text
    layer, so the labels, are the same; only the link ink differs)."""
    root = tmp_path_factory.mktemp("pdfpages")
    _make_pdf(root / "shown.pdf")
    _make_pdf(root / "hidden.pdf", link_color=(1, 1, 1))
    return root / "shown.pdf", root / "hidden.pdf"


@pytest.fixture(scope="module")
def pages(pdfs):
    return build_index([DocSource(pdfs[0], "local", "-")], PdfPagesConfig(), progress=False)


def test_training_tuning_and_validation_packages_are_disjoint() -> None:
    sets = [{n for n, _ in pkgs} for pkgs in (TRAIN_PACKAGES, TRAIN2_PACKAGES, TUNE_PACKAGES, DOC_PACKAGES,
                                                  TUNE_DOC_PACKAGES)]
    assert all(sets)
    assert sum(map(len, sets)) == len(set().union(*sets))


def test_index_keeps_pages_with_links(pages) -> None:
    assert [p["page"] for p in pages] == [0, 1]  # the page with no link is not a target
    for p in pages:
        sure = {ln["url"] for ln in p["links"] if not ln["ambiguous"]}
        assert sure == set(URLS)
        assert [ln["ambiguous"] for ln in p["links"] if "r.app" in ln["url"]] == [True]


def test_link_ink_lies_in_the_link_quads(pdfs, pages) -> None:
    """Photograph each page with its links printed and with them in white, same
    seed: the difference is the link ink, which must lie inside the link quads,
    and every whole link quad must hold some. The bare host is never a link."""
    hidden_pages = [dict(p, pdf=str(pdfs[1])) for p in pages]
    shown = PdfPageSynthesizer(PdfPagesConfig(), pages)
    hidden = PdfPageSynthesizer(PdfPagesConfig(), hidden_pages)
    inside = total = whole = 0
    for seed in range(16):
        a, b = shown.make_sample(seed), hidden.make_sample(seed)
        assert [ln.to_json() for ln in a.links] == [ln.to_json() for ln in b.links]
        assert all("r.app" not in ln.url for ln in a.links)
        assert len(a.text_quads) >= len(a.links)
        # JPEG ringing spreads a glyph's difference a pixel or two: threshold, then dilate the quads.
        ink = (np.abs(a.image.astype(np.int16) - b.image.astype(np.int16)).max(axis=2) > 40).astype(np.uint8)
        mask = np.zeros(ink.shape, np.uint8)
        for ln in a.links:
            for q in ln.quads:
                one = np.zeros(ink.shape, np.uint8)
                cv2.fillPoly(one, [np.round(q).astype(np.int32)], 1)
                mask |= one
                if not ln.partial:
                    assert (ink & one).sum() >= max(10, 0.03 * one.sum()), (seed, ln.url)
                    whole += 1
        mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
        inside += int((ink & mask).sum())
        total += int(ink.sum())
    assert whole >= 5 and total > 500
    assert inside / total >= 0.97, inside / total


def test_shards_from_pdf_pages_are_deterministic(pages, tmp_path) -> None:
    source = (PdfPageSynthesizer, (PdfPagesConfig(), pages))
    m = build(tmp_path / "a", count=5, seed=2, workers=1, shard_size=3, progress=False, config=PdfPagesConfig(),
              source=source)
    build(tmp_path / "b", count=5, seed=2, workers=2, shard_size=3, progress=False, config=PdfPagesConfig(),
          source=source)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    rows = list(read_dataset(tmp_path / "a"))
    assert m["count"] == 5 and len(rows) == 5
    assert all(meta["package"] == "local" for _j, _links, _tq, meta in rows)
    assert any(links for _j, links, _tq, _m in rows)


def test_tuning_items_score_unconfirmed_bare_hosts_neither_way(pages, tmp_path) -> None:
    """A detection on the bare host no annotation confirms is neither a hit
    nor a false alarm (as in realdocs); one on prose still is a false alarm."""
    from edge_app.results import quad_iou
    from training.evaluate import match, tuning_items

    source = (PdfPageSynthesizer, (PdfPagesConfig(), pages))
    build(tmp_path / "t", count=6, seed=5, workers=1, shard_size=6, progress=False, source=source)
    build(tmp_path / "u", count=2, seed=6, workers=1, shard_size=6, progress=False, source=source)
    folders = f"{tmp_path / 't'},{tmp_path / 'u'}"
    items = list(tuning_items(folders))
    assert len(items) == 8 and len(list(tuning_items(folders, limit=1))) == 2
    rows = {f"synth-{meta['seed']}": (tq, meta) for _j, _l, tq, meta in read_dataset(tmp_path / "t")}
    checked = 0
    for item in items[:6]:
        tq, meta = rows[item.name]
        unscored = [g.quads[0] for g in item.links if g.partial and not g.url]
        assert len(unscored) == len(meta.get("ambiguous_quads", []))
        scored = [q for g in item.links if not g.partial for q in g.quads]
        prose = [q for q in tq if all(quad_iou(q, u) < 0.1 for u in unscored + scored)]
        if not unscored or not prose:
            continue
        used, gt_match, ignore = match(unscored + prose[:1], item.links)
        # Matched to a partial link or overlapping one: evaluate counts it neither way.
        neither = ignore | {pi for (li, _qi), pi in gt_match.items() if item.links[li].partial}
        assert set(range(len(unscored))) <= neither and len(unscored) not in used | ignore
        checked += 1
    assert checked


@pytest.mark.slow
def test_training_mixes_comma_separated_folders(pages, tmp_path) -> None:
    pytest.importorskip("tensorflow")
    from training.dataset import load_many

    source = (PdfPageSynthesizer, (PdfPagesConfig(), pages))
    build(tmp_path / "pdf", count=3, seed=4, workers=1, shard_size=3, progress=False, source=source)
    build(tmp_path / "synth", count=2, seed=4, workers=1, shard_size=3, progress=False)
    mixed = load_many(f"{tmp_path / 'synth'},{tmp_path / 'pdf'}", progress=False)
    assert len(mixed) == 5 and len(mixed.maps) == 5
    assert any(m[..., 0].any() for m in mixed.maps[2:])  # the PDF frames bring link targets
    with pytest.raises(FileNotFoundError):
        load_many(f"{tmp_path / 'synth'},{tmp_path / 'nothing'}", progress=False)


def test_lookalikes_are_ignored_not_negatives(pages) -> None:
    """With ignore_lookalikes, the bare host, the file name and the DOI are
    marked IGNORE in the link target (outside every link), the links stay 1,
    and the text target still holds all of them."""
    plain = PdfPageSynthesizer(PdfPagesConfig(), pages)
    marked = PdfPageSynthesizer(PdfPagesConfig(ignore_lookalikes=True), pages)
    seen = 0
    for seed in range(12):
        a, b = plain.make_sample(seed), marked.make_sample(seed)
        assert "ignore_quads" not in a.meta and a.jpeg == b.jpeg
        ign = [np.asarray(q, np.float32) for q in b.meta.get("ignore_quads", [])]
        _img, m_plain = targets(a.image, a.links, a.text_quads)
        _img, m = targets(b.image, b.links, b.text_quads, ignore_quads=ign)
        assert ((m[..., 0] == 1) == (m_plain[..., 0] == 1)).all()  # links untouched
        assert (m[..., 1] == m_plain[..., 1]).all()  # text untouched
        assert set(np.unique(m[..., 0])) <= {0, 1, IGNORE}
        if ign:
            seen += 1
            assert (m[..., 0] == IGNORE).any()
    assert seen >= 4


def test_an_index_of_the_other_split_is_refused_before_any_download(tmp_path, capsys) -> None:
    from training.pdfpages import main

    (tmp_path / "pages.json").write_text('[{"package": "%s", "page": 0, "links": []}]' % TRAIN_PACKAGES[0][0])
    assert main(["--split", "tune", "--out", str(tmp_path), "--src", str(tmp_path / "src"), "--count", "0"]) == 2
    assert "not in the tune packages" in capsys.readouterr().err
    assert not (tmp_path / "src").exists()


def test_pooled_splits_refuse_another_lists_index_and_unknown_names(tmp_path, capsys) -> None:
    from training.pdfpages import main

    (tmp_path / "pages.json").write_text('[{"package": "%s", "page": 0, "links": []}]' % TUNE_PACKAGES[0][0])
    args = ["--out", str(tmp_path), "--src", str(tmp_path / "src"), "--count", "0"]
    assert main(["--split", "train,train2", *args]) == 2
    assert "not in the train,train2 packages" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--split", "train,nonsense", *args])
    assert "unknown --split nonsense" in capsys.readouterr().err
    assert not (tmp_path / "src").exists()


def test_a_page_whose_text_cannot_be_read_is_skipped_not_fatal(pdfs, monkeypatch, caplog) -> None:
    import training.pdfpages as pdfpages

    read = pdfpages.page_links

    def fails_on_the_first_page(page):
        if page.number == 0:  # stands in for MuPDF's SystemError on one of context's manuals
            raise SystemError("returned a result with an exception set")
        return read(page)

    monkeypatch.setattr(pdfpages, "page_links", fails_on_the_first_page)
    pages = build_index([DocSource(pdfs[0], "local", "-")], PdfPagesConfig(), progress=False)
    assert [p["page"] for p in pages] == [1]
    assert "cannot read the text of" in caplog.text and "page 1" in caplog.text
