"""Training frames from real typeset pages: Debian documentation PDFs, photographed
by the *training* camera.

Our generator draws pages with its own layout rules and fonts; the detector
trained on them alone found the real documents' links less well with every
change that helped on synthetic pages. This source gives it real typography
(LaTeX, Texinfo, DocBook, groff, office suites) with labels taken from the
PDF's text layer by the same rule as the real-documents set
(``training.realdocs.page_links``).

It never uses what the evaluation uses: the packages here are disjoint from
``training.realdocs.DOC_PACKAGES`` (checked at import), and the frames go
through ``training.camera`` (the synthetic pages' camera), not realdocs'
``RealCamera``.

    python -m training.pdfpages --out data/pdftrain --count 4000

writes shards in the generator's format (``training.shards``), so training
mixes them in with ``--data data/synth/train,data/pdftrain``. The text layer
says what is a link, not what is not: ``--ignore-lookalikes`` marks words that
look like one (DOIs, file names, paths) "ignore" for the loss instead of
"not a link" (``training.synth.IGNORE``). Both runs are written up in the
model card's notes; neither was shipped.

    python -m training.pdfpages --split train,train2 --out data/pdftrain12_ign --count 3000 --seed 6 --ignore-lookalikes

pools the first training list with a second one (``TRAIN2_PACKAGES``, 21
more packages): more typography at the same number of frames.

    python -m training.pdfpages --split tune --count 600 --seed 11    # -> data/pdftune

photographs pages of other packages (``TUNE_PACKAGES``: in neither the
training nor the validation list) as a tuning split of real typography:
``--tune data/synth/tune,data/pdftune`` chooses decoding thresholds on both.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training.camera import CameraConfig, photograph, random_geometry, warp_image, warp_points
from training.evaluate import link_kind
from training.realdocs import PACKAGE_SETS, DocSource, RealDocsError, fetch_packages, page_links
from training.synth import LinkLabel, Sample, inside_frame, visible_in_frame

log = logging.getLogger(__name__)

# Documentation packages with printed URLs, none of them in the real-documents
# set: TeX Live package manuals (many classes, fonts and layouts), Texinfo
# (LilyPond, Asymptote, Octave, Maxima), publican/DocBook (the Debian
# handbook, dblatex), groff's own PDFs, SIL's font documentation (an office
# suite's layout), R vignettes (Sweave). Versions as of the first build.
TRAIN_PACKAGES: tuple[tuple[str, str], ...] = (
    ("texlive-latex-recommended-doc", "2022.20230122-3"),
    ("texlive-humanities-doc", "2022.20230122-4"),
    ("texlive-fonts-recommended-doc", "2022.20230122-3"),
    ("lilypond-doc-pdf", "2.24.1-2"),
    ("asymptote-doc", "2.85+ds-1"),
    ("octave-doc", "7.3.0-2"),
    ("maxima-doc", "5.46.0-11"),
    ("debian-handbook", "11.20220922"),
    ("dblatex-doc", "0.3.12py3-2"),
    ("debian-policy", "4.6.2.0"),
    ("groff", "1.22.4-10"),
    ("fonts-sil-charis", "6.101-1"),
    ("r-cran-zoo", "1.8-11-1"),
    ("r-cran-sandwich", "3.0-2-1"),
)
# The tuning split's packages (``--split tune``): real typography that neither
# training nor the real-documents validation set has seen, to choose decoding
# thresholds on (the synthetic tuning split alone picks for synthetic pages).
TUNE_PACKAGES: tuple[tuple[str, str], ...] = (
    ("glpk-doc", "5.0-1"),
    ("ngspice-doc", "39.3+ds-1"),
    ("pari-doc", "2.15.2-1"),
    ("texlive-metapost-doc", "2022.20230122-3"),
    ("texlive-science-doc", "2022.20230122-4"),
    ("r-cran-xts", "0.13.0-1"),
    ("r-cran-mvtnorm", "1.1-3-1+b1"),
)
# More training typography (``--split train2``), a list of its own so that
# the recipes built on ``train`` stay reproducible: journal classes
# (texlive-publishers), TikZ and biblatex manuals, ConTeXt's own manuals,
# DocBook (Debian Live, the installation guide, Berkeley DB), groff/LaTeX
# (Graphviz, X.Org), a reference card in many scripts, Therion, SML/NJ, GNU
# parallel and an R textbook's vignettes. SageMath's, SymPy's, statsmodels'
# and gretl's PDFs gave no page with a printed link (figures, or links
# without the text): kept, so that the list is the one the data was built from.
TRAIN2_PACKAGES: tuple[tuple[str, str], ...] = (
    ("texlive-publishers-doc", "2022.20230122-4"),
    ("texlive-pictures-doc", "2022.20230122-3"),
    ("texlive-bibtex-extra", "2022.20230122-4"),
    ("texlive-games", "2022.20230122-4"),
    ("texlive-music", "2022.20230122-4"),
    ("texlive-luatex", "2022.20230122-3"),
    ("context", "2021.03.05.20230120+dfsg-1+deb12u1"),
    ("sagemath-doc", "9.5-6"),
    ("python-sympy-doc", "1.11.1-1"),
    ("graphviz-doc", "2.42.2-7+deb12u1"),
    ("live-manual-pdf", "2:20151217.2"),
    ("debian-refcard", "12.0"),
    ("db5.3-doc", "5.3.28+dfsg2-1"),
    ("xorg-docs", "1:1.7.1-1.2"),
    ("gretl-doc", "2022c-1"),
    ("installation-guide-amd64", "20230508+deb12u1"),
    ("r-cran-hsaur3", "1.0-13-1"),
    ("python-statsmodels-doc", "0.13.5+dfsg-7"),
    ("therion-doc", "6.1.6-3"),
    ("smlnj-doc", "110.79-8"),
    ("parallel", "20221122+ds-2"),
)
SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    "train": TRAIN_PACKAGES, "train2": TRAIN2_PACKAGES, "tune": TUNE_PACKAGES}
# Every package list the project photographs, by its use: none may share a package.
_ALL_LISTS = {**{f"PDF frames {k}": v for k, v in SPLITS.items()},
              **{f"real documents {k}": v for k, v in PACKAGE_SETS.items()}}
if len({n for pkgs in _ALL_LISTS.values() for n, _ in pkgs}) != sum(map(len, _ALL_LISTS.values())):
    raise RuntimeError(f"a package is in two of: {', '.join(_ALL_LISTS)}")


@dataclass(frozen=True)
class PdfPagesConfig:
    out_size: tuple[int, int] = (640, 480)
    portrait_p: float = 0.25
    xheight: tuple[float, float] = (5.0, 40.0)  # the target link's x-height in output px, log-uniform
    xheight_per_line: float = 0.42  # x-height / text-layer line box height (Latin fonts: 0.38-0.46)
    min_canvas_xheight: float = 8.0  # render at least this large, then shrink like a lens
    docs_per_package: int = 80  # spread over each package's PDFs
    pages_per_doc: int = 100  # spread over each PDF
    max_doc_pages: int = 1500
    # Mark link look-alikes "ignore" for the loss instead of "not a link".
    ignore_lookalikes: bool = False
    camera: CameraConfig = field(default_factory=CameraConfig)


# A word with a dot, slash or colon between letters or digits, or a DOI.
LOOKALIKE = re.compile(r"[A-Za-z0-9][./:][A-Za-z0-9]|^\W*doi", re.IGNORECASE)

# ------------------------------------------------------------------ index
def _spread(n: int, k: int) -> list[int]:
    return [int(i) for i in np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))] if n else []


def build_index(sources: list[DocSource], cfg: PdfPagesConfig, progress: bool = True) -> list[dict]:
    """Pages with at least one printed URL that is surely a link: where to aim."""
    import pymupdf

    by_pkg: dict[str, list[DocSource]] = {}
    for s in sources:
        by_pkg.setdefault(s.package, []).append(s)
    chosen = [srcs[i] for srcs in by_pkg.values() for i in _spread(len(srcs), cfg.docs_per_package)]
    pages = []
    for src in tqdm(chosen, desc="scan PDFs", disable=not progress):
        try:
            doc = pymupdf.open(src.path)
        except Exception as exc:  # a damaged PDF in a package: skip it, say so
            log.warning("cannot open %s: %s", src.path, exc)
            continue
        if doc.page_count > cfg.max_doc_pages:
            continue
        for pi in _spread(doc.page_count, cfg.pages_per_doc):
            page = doc[pi]
            if page.rotation:
                continue
            try:
                links = page_links(page)
            except Exception as exc:  # MuPDF cannot lay out this page's text (seen in context's manuals)
                log.warning("cannot read the text of %s page %d: %s", src.path, pi + 1, exc)
                continue
            if any(not ln.ambiguous for ln in links):
                pages.append({
                    "pdf": str(src.path), "package": src.package, "page": pi,
                    "links": [{"url": ln.normalized, "parts": ln.parts, "boxes": [list(b) for b in ln.boxes],
                               "ambiguous": ln.ambiguous} for ln in links],
                })
    return pages


# ------------------------------------------------------------------ frames
class PdfPageSynthesizer:
    """``make_sample(seed)``: one training frame of a real page, deterministic for a seed."""

    def __init__(self, config: PdfPagesConfig, pages: list[dict]) -> None:
        if not pages:
            raise RealDocsError("no PDF pages with printed links to photograph")
        self.config = config
        self.pages = pages
        # A package's share of frames grows with the square root of its pages:
        # one package with many link pages (LilyPond's manuals) does not drown
        # the typography of the others, and a two-page one is not repeated to death.
        counts = Counter(p["package"] for p in pages)
        weight = np.array([np.sqrt(counts[p["package"]]) / counts[p["package"]] for p in pages])
        self._page_p = weight / weight.sum()
        self._docs: dict[str, object] = {}

    def _page(self, path: str, index: int):
        import pymupdf

        doc = self._docs.get(path)
        if doc is None:
            doc = self._docs[path] = pymupdf.open(path)
        return doc[index]  # type: ignore[index]

    def make_sample(self, seed: int) -> Sample:
        import pymupdf

        cfg = self.config
        rng = np.random.default_rng(seed)
        entry = self.pages[int(rng.choice(len(self.pages), p=self._page_p))]
        page = self._page(entry["pdf"], entry["page"])
        w, h = cfg.out_size
        if rng.random() < cfg.portrait_p:
            w, h = h, w
        sure = [ln for ln in entry["links"] if not ln["ambiguous"]]
        target = sure[int(rng.integers(len(sure)))]
        boxes = np.array(target["boxes"], np.float64)
        line_pt = float(np.mean(boxes[:, 3] - boxes[:, 1]))
        xh = float(np.exp(rng.uniform(np.log(cfg.xheight[0]), np.log(cfg.xheight[1]))))
        scale = xh / (cfg.xheight_per_line * max(line_pt, 1.0))  # output px per point
        zoom = max(1.0, cfg.min_canvas_xheight / xh) * rng.uniform(1.0, 1.25)
        cw, ch = int(w * zoom * 1.15), int(h * zoom * 1.15)
        s = scale * zoom  # canvas px per point
        # Centre the canvas near the link (its start, its middle, anywhere on it).
        x0, y0, x1, y1 = boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
        cx = x0 + rng.uniform(0, 1) * (x1 - x0) + rng.normal(0, 0.15) * cw / s
        cy = (y0 + y1) / 2 + rng.normal(0, 0.15) * ch / s
        clip = pymupdf.Rect(cx - cw / (2 * s), cy - ch / (2 * s), cx + cw / (2 * s), cy + ch / (2 * s))
        desk = tuple(int(v) for v in rng.integers(10, 120, 3))
        canvas = np.empty((ch, cw, 3), np.uint8)
        canvas[:] = desk
        vis = clip & page.rect
        if not vis.is_empty:
            pix = page.get_pixmap(matrix=pymupdf.Matrix(s, s), clip=vis, alpha=False, colorspace=pymupdf.csRGB)
            img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)[..., :3]
            ox, oy = int(round((vis.x0 - clip.x0) * s)), int(round((vis.y0 - clip.y0) * s))
            hh, ww = min(img.shape[0], ch - oy), min(img.shape[1], cw - ox)
            if hh > 0 and ww > 0:
                canvas[oy:oy + hh, ox:ox + ww] = img[:hh, :ww]
        geo = random_geometry(rng, (cw, ch), (w, h), zoom, cfg.camera)
        warped = warp_image(canvas, geo, zoom, desk)
        image, jpeg = photograph(rng, warped, cfg.camera)

        def to_frame(box) -> np.ndarray:
            bx0, by0, bx1, by1 = box
            q = (np.array([[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]], np.float64)
                 - [clip.x0, clip.y0]) * s
            return warp_points(q.astype(np.float32), geo)

        links, ambiguous = [], []
        for ln in entry["links"]:
            quads = [to_frame(b) for b in ln["boxes"]]
            if not any(visible_in_frame(q, w, h) for q in quads):
                continue
            if ln["ambiguous"]:
                ambiguous.extend(quads)  # maybe a file or function name: text, not a link
                continue
            partial = not all(inside_frame(q, w, h) for q in quads)
            style = {"source": "pdf", "package": entry["package"], "xheight": round(xh, 2)}
            links.append(LinkLabel(ln["url"], link_kind(ln["parts"][0]), quads, partial, style, list(ln["parts"])))
        words = [(wd[:4], wd[4], q) for wd in page.get_text("words", clip=clip)
                 if visible_in_frame(q := to_frame(wd[:4]), w, h)]
        meta = {"seed": seed, "xheight": round(xh, 3), "zoom": round(zoom, 3), "size": [w, h],
                "pdf": Path(entry["pdf"]).name, "package": entry["package"], "page": entry["page"] + 1}
        if ambiguous:
            # Evaluation scores them neither way, as realdocs does (``synth_items``).
            meta["ambiguous_quads"] = [np.round(q, 1).tolist() for q in ambiguous]
        if cfg.ignore_lookalikes:
            # Look-alikes (DOIs, file names, paths, bare hosts no annotation confirms):
            # the text layer cannot say they are not links, so the loss ignores them.
            link_boxes = [pymupdf.Rect(b) for ln in entry["links"] if not ln["ambiguous"] for b in ln["boxes"]]
            ignore = ambiguous + [q for box, text, q in words if LOOKALIKE.search(text)
                                  and not any(pymupdf.Rect(box).intersects(b) for b in link_boxes)]
            if ignore:
                meta["ignore_quads"] = [np.round(q, 1).tolist() for q in ignore]
        return Sample(image=image, jpeg=jpeg, links=links, text_quads=[q for _, _, q in words] + ambiguous, meta=meta)


# ------------------------------------------------------------------ CLI
def main(argv: list[str] | None = None) -> int:
    from training.shards import build

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="train",
                    help="which package list: train, train2 (more typography), or tune (threshold choice; packages "
                         "in no other set); several joined by commas (train,train2) pool their packages")
    ap.add_argument("--out", type=Path, help="default data/pdf<split> (data/pdftrain, data/pdftune)")
    ap.add_argument("--src", type=Path, help="download cache (default: --out with _src)")
    ap.add_argument("--count", type=int, default=4000, help="frames to write (0: only the index and --preview)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shard-size", type=int, default=500)
    ap.add_argument("--ignore-lookalikes", action="store_true",
                    help="label link look-alikes (DOIs, file names, paths) 'ignore' rather than 'not a link'")
    ap.add_argument("--preview", type=Path, help="also write a contact sheet of 16 frames with their labels here")
    args = ap.parse_args(argv)
    names = args.split.split(",")
    if unknown := [n for n in names if n not in SPLITS]:
        ap.error(f"unknown --split {', '.join(unknown)}: choose from {', '.join(sorted(SPLITS))}")
    if len(names) > 1 and args.out is None:
        ap.error("--out is needed when --split names several lists")
    packages = tuple(pkg for n in dict.fromkeys(names) for pkg in SPLITS[n])
    args.out = args.out or Path(f"data/pdf{args.split}")
    args.src = args.src or args.out.with_name(args.out.name + "_src")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cfg = PdfPagesConfig(ignore_lookalikes=args.ignore_lookalikes)
    try:
        index = args.out / "pages.json"
        if index.is_file():
            pages = json.loads(index.read_text())
            wanted = {n for n, _ in packages}
            if stray := sorted({p["package"] for p in pages} - wanted):
                raise RealDocsError(f"{index} indexes pages of {', '.join(stray)}, not in the {args.split} "
                                    "packages: use another --out for this split")
        sources = fetch_packages(args.src, packages)
        args.out.mkdir(parents=True, exist_ok=True)
        if not index.is_file():
            pages = build_index(sources, cfg)
            index.write_text(json.dumps(pages) + "\n")
        if not pages:
            raise RealDocsError(f"no printed links found in the {args.split} packages' PDFs")
        if args.count > 0:
            m = build(args.out, args.count, args.seed, args.workers, args.shard_size, config=cfg,
                      source=(PdfPageSynthesizer, (cfg, pages)))
    except RealDocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pkgs = sorted({p["package"] for p in pages})
    print(f"{len(pages)} pages with printed links in {len(pkgs)} packages (index: {index})")
    if args.count > 0:
        print(f"{m['count']} frames, {m['links']} links, {m['samples_per_second']} frames/s -> {args.out}")
    if args.preview:
        from training.preview import contact_sheet, save_sheet
        from training.shards import sample_seed

        synth = PdfPageSynthesizer(cfg, pages)
        save_sheet(args.preview, contact_sheet([synth.make_sample(sample_seed(args.seed, i)) for i in range(16)]))
        print(f"wrote {args.preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
