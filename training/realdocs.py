"""The independent validation set: real documents, not our generator's pages.

    python -m training.realdocs build --out data/realdocs
    python -m training.realdocs preview --data data/realdocs --out docs/realdocs_preview.png

``build`` downloads Debian documentation packages that ship PDF manuals full
of printed URLs (``apt-get download``, cached in ``data/realdocs_src/debs``,
unpacked with ``dpkg-deb -x``; no root install), renders pages with PyMuPDF
at a random DPI, takes every printed URL and its box per printed line from
the PDF's text layer (URL rule: ``edge_app.urls``), and photographs the
pages with a camera simulation of its own (``RealCamera``), deliberately
unlike the training one in ``training.camera``: a pinhole camera posed in
3D, radial lens distortion, a directional light gradient and a hand shadow,
paper texture, disc (defocus) blur varying with depth, Poisson shot noise,
phone-style sharpening and a different (sometimes double) JPEG range.

Output: ``<out>/images/*.jpg``, ``<out>/labels.jsonl`` (one line per image:
``{"image": "images/x.jpg", "width", "height", "doc", "page",
"links": [{"url", "normalized", "parts", "quads", "partial"}]}``; quads are
``[[x, y] x 4]`` TL, TR, BR, BL in image pixels, one per printed line) and
``<out>/manifest.json`` (packages and versions, documents, seed, settings,
counts). This is what ``training.evaluate.realdocs_items`` reads.

Only text the PDF prints is used: a link annotation alone (a clickable area
with no printed URL) is never a label, because labels come from the text
layer, not from the annotations.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np
from tqdm import tqdm

from edge_app.urls import find_urls, is_bare_scheme, join_wrapped, normalize_url

log = logging.getLogger(__name__)

# Documentation packages with many printed URLs in varied typography:
# DocBook/dblatex (debian-reference, maint-guide), Sphinx/LaTeX
# (developers-reference), debiandoc (debian-faq), Texinfo (R manuals), LaTeX
# (gnuplot), ReportLab's own layout engine, Ghostscript's LaTeX notes.
# The versions are the ones the shipped set was built from; when the mirror
# no longer has one, the current candidate is used and recorded instead.
DOC_PACKAGES: tuple[tuple[str, str], ...] = (
    ("debian-reference-en", "2.100"),
    ("developers-reference", "12.18"),
    ("debian-faq", "11.1"),
    ("maint-guide", "1.2.53"),
    ("r-doc-pdf", "4.2.2.20221110-2"),
    ("gnuplot-doc", "5.4.4+dfsg1-2"),
    ("python-reportlab-doc", "3.6.12-1+deb12u1"),
    ("ghostscript-doc", "10.0.0~dfsg-11+deb12u9"),
)
# A second, larger real-typography set to choose between detectors on
# (``build --packages tune``): packages in none of the training, tuning or
# validation lists, so a choice made on it says nothing about the validation
# figures. LaTeX class documentation (texlive-latex-base-doc), Erlang/OTP's
# own PDF toolchain, JSS-style R vignettes (Rcpp, lme4, quantreg, survival),
# a Sphinx/LaTeX manual (why3), AMC's DocBook manuals, FreeFEM's manual.
TUNE_DOC_PACKAGES: tuple[tuple[str, str], ...] = (
    ("texlive-latex-base-doc", "2022.20230122-3"),
    ("erlang-doc", "1:25.2.3+dfsg-1+deb12u4"),
    ("r-cran-rcpp", "1.0.10-1"),
    ("r-cran-lme4", "1.1-31-1"),
    ("r-cran-quantreg", "5.94-1"),
    ("r-cran-survival", "3.5-3-1"),
    ("why3-doc-pdf", "1.5.1-1"),
    ("auto-multiple-choice-doc-pdf", "1.6.0-1"),
    ("freefem-doc", "3.5.8-7"),
)
PACKAGE_SETS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {"validation": DOC_PACKAGES, "tune": TUNE_DOC_PACKAGES})


class RealDocsError(RuntimeError):
    """A build step that cannot go on; the message says what to do."""


# ------------------------------------------------------------------ sources
@dataclass(frozen=True)
class DocSource:
    path: Path
    package: str  # Debian package (or "local")
    version: str
    deb: str = ""  # the .deb file it came from
    deb_sha256: str = ""


def _deb_field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout.strip()


def fetch_packages(src: Path, packages: tuple[tuple[str, str], ...] = DOC_PACKAGES) -> list[DocSource]:
    """Download (once; cached) and unpack the packages; their PDFs, deduplicated."""
    debs_dir, tree = src / "debs", src / "x"
    if shutil.which("dpkg-deb") is None:
        raise RealDocsError("dpkg-deb not found: the real-documents set unpacks Debian packages; "
                            "run on Debian/Ubuntu or pass PDFs with --pdf --no-packages")
    debs_dir.mkdir(parents=True, exist_ok=True)
    sources: list[DocSource] = []
    seen: set[str] = set()
    for name, version in packages:
        debs = sorted(debs_dir.glob(f"{name}_*.deb"))
        if not debs:
            if shutil.which("apt-get") is None:
                raise RealDocsError(
                    f"apt-get not found: the real-documents set downloads Debian documentation packages "
                    f"({name} ...). Run on Debian/Ubuntu, put the .deb files in {debs_dir}, or pass PDFs with --pdf.")
            for spec in (f"{name}={version}", name):
                r = subprocess.run(["apt-get", "download", spec], cwd=debs_dir, capture_output=True, text=True)
                if r.returncode == 0:
                    break
                log.warning("apt-get download %s failed: %s", spec, (r.stderr.strip().splitlines() or ["?"])[-1])
            else:
                raise RealDocsError(f"cannot download {name}: run 'apt-get update' first, or put its .deb in {debs_dir}")
            debs = sorted(debs_dir.glob(f"{name}_*.deb"))
        deb = debs[-1]
        actual = _deb_field(deb, "Version")
        deb_sha = hashlib.sha256(deb.read_bytes()).hexdigest()
        dest = tree / deb.stem
        if not (dest / ".unpacked").exists():
            dest.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
            (dest / ".unpacked").write_text(actual + "\n")
        for pdf in sorted(list(dest.rglob("*.pdf")) + list(dest.rglob("*.pdf.gz"))):
            if pdf.is_symlink() or not pdf.is_file():
                continue
            if pdf.suffix == ".gz":
                plain = pdf.with_suffix("")
                if not plain.exists():
                    plain.write_bytes(gzip.decompress(pdf.read_bytes()))
                pdf = plain
            digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            sources.append(DocSource(pdf, name, actual, deb.name, deb_sha))
    return sources


# ------------------------------------------------------------------ links
@dataclass
class PageLink:
    """A printed URL on a PDF page: raw printed parts, one box per line (points)."""

    url: str  # the printed text, lines joined (join_wrapped)
    normalized: str
    parts: list[str]
    boxes: list[tuple[float, float, float, float]]  # x0, y0, x1, y1 per printed line
    # A bare host that no link annotation confirms: labelled, but scored
    # neither way (written as partial, like a link cut by the frame).
    ambiguous: bool = False


@dataclass
class _Token:
    chars: list[tuple[str, tuple[float, float, float, float]]]

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)


@dataclass
class _Line:
    tokens: list[_Token]
    block: tuple[float, float, float, float]  # the text block (column, paragraph) it belongs to


def _page_lines(page) -> list[_Line]:
    """Horizontal text lines of a page in reading order, split into tokens at
    spaces and at gaps wide enough to be one (some PDFs print no space)."""
    import pymupdf

    raw = page.get_text("rawdict", flags=pymupdf.TEXT_MEDIABOX_CLIP)
    lines: list[_Line] = []
    for block in raw["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            if abs(line["dir"][0] - 1.0) > 1e-3:
                continue  # rotated text: the camera views never show it upright
            tokens: list[_Token] = []
            cur: list = []
            prev_x1 = None
            for span in line["spans"]:
                if span.get("alpha", 255) == 0:
                    continue  # invisible text (an OCR layer): not printed
                gap_min = 0.3 * span["size"]
                for ch in span["chars"]:
                    c, bb = ch["c"], tuple(ch["bbox"])
                    if c.isspace() or (prev_x1 is not None and bb[0] - prev_x1 > gap_min):
                        if cur:
                            tokens.append(_Token(cur))
                        cur = []
                    if not c.isspace() and bb[2] > bb[0]:
                        cur.append((c, bb))
                    prev_x1 = bb[2]
            if cur:
                tokens.append(_Token(cur))
            if tokens:
                lines.append(_Line(tokens, tuple(block["bbox"])))
    return lines


_LINK_START = re.compile(r"(https?|ftp)://|www\.", re.IGNORECASE)


def _trim(tok: _Token, url: str, side: str, rest: list[str]) -> _Token:
    """Drop what the sentence put around the URL (brackets, quotes, a full
    stop): strip non-alphanumeric end characters for as long as the URL
    rule gives the same URL, so the box holds the link's glyphs only."""
    chars = list(tok.chars)

    def same(cs) -> bool:
        text = "".join(c for c, _ in cs)
        parts = [text, *rest] if side == "left" else [*rest, text]
        return normalize_url(join_wrapped(parts)) == url

    if side == "left":
        # A word the URL rules cut off before the link ("url{http://…",
        # "silfonts](http://…"): the link starts at its scheme or www.
        start = _LINK_START.search("".join(c for c, _ in chars))
        if start and start.start() > 0 and same(chars[start.start():]):
            chars = chars[start.start():]
        while len(chars) > 1 and not chars[0][0].isalnum() and same(chars[1:]):
            chars = chars[1:]
    else:
        while len(chars) > 1 and not chars[-1][0].isalnum() and same(chars[:-1]):
            chars = chars[:-1]
    return _Token(chars)


def _box(tok: _Token) -> tuple[float, float, float, float]:
    bbs = np.array([bb for _, bb in tok.chars], np.float64)
    return float(bbs[:, 0].min()), float(bbs[:, 1].min()), float(bbs[:, 2].max()), float(bbs[:, 3].max())


def _is_bare(url: str, printed: str) -> bool:
    """A host alone with no scheme and no www. (``R.app``, ``is.na``,
    ``reportlab.com``): the URL rule accepts it, but in code-heavy manuals it
    is as often a file or function name as a link."""
    p = printed.lower().lstrip("(<[\"'")
    return not p.startswith(("http:", "https:", "ftp:", "www.")) and url.split("://", 1)[1].rstrip("/").count("/") == 0


# What opens a line of a code listing or a reference list ("2", "[3]", "12."):
# a URL's rest after a line break is never only that, and the text rule, which
# sees only the two strings, would join it (".../format/1.0/" + "2").
_LINE_MARKER = re.compile(r"[\[(]?\d{1,3}[\])]?[.:]?")


def _wraps_here(line: _Line, tok: _Token, nxt_line: _Line) -> bool:
    """Geometry of a line break inside a link: the link runs to the right
    edge of its text block and the next line starts at the block's left."""
    nxt = nxt_line.tokens[0]
    bx0, _, bx1, _ = line.block
    x0, y0, x1, y1 = _box(tok)
    nx0, ny0, _, ny1 = _box(nxt)
    h = y1 - y0
    return (x1 >= bx1 - 3 * h and ny0 >= (y0 + y1) / 2 and ny0 - y1 < 1.5 * h
            and nx0 <= min(bx0, nxt_line.block[0]) + 3 * h and any(c.isalnum() for c in nxt.text))


def page_links(page, max_lines: int = 3) -> list[PageLink]:
    """Every printed URL on a page with its per-line boxes in PDF points.

    Where the PDF has link annotations they settle the ambiguous cases (is
    the next line's first word part of the link? is ``R.app`` a link?);
    they never add a label of their own."""
    lines = _page_lines(page)
    annotated = {u for u in (normalize_url(lk.get("uri") or "") for lk in page.get_links()) if u}
    out: list[PageLink] = []
    consumed: set[tuple[int, int]] = set()
    for li, line in enumerate(lines):
        tokens = line.tokens
        for ti, tok in enumerate(tokens):
            if (li, ti) in consumed:
                continue
            parts_tok = [tok]
            url = normalize_url(tok.text)
            # A link wrapped at a line end: find_urls owns the text rule for
            # when the next line's first word continues it, the annotations
            # or the layout confirm it; follow it line by line.
            nl = li
            while ti == len(tokens) - 1 and len(parts_tok) < max_lines and nl + 1 < len(lines):
                nxt = lines[nl + 1].tokens[0]
                if not any(c.isalnum() for c in nxt.text) or _LINE_MARKER.fullmatch(nxt.text):
                    break
                joined = join_wrapped([t.text for t in parts_tok])
                candidate = normalize_url(join_wrapped([joined, nxt.text]))
                if candidate is None or candidate not in find_urls(f"{joined}\n{nxt.text}"):
                    break
                # The URL rules cut a link out of the sentence's words read with
                # it ("(https://x.org/a)of", "see(https://…", "athttps://…"):
                # a next word that changes nothing, or a line end that the next
                # line's link does without (unless it is the bare scheme), is
                # the sentence's, not the link's.
                if candidate == url or (url is None and candidate == normalize_url(nxt.text)
                                        and not is_bare_scheme(joined)):
                    break
                if candidate not in annotated and (url in annotated or not _wraps_here(lines[nl], parts_tok[-1], lines[nl + 1])):
                    break
                parts_tok.append(nxt)
                url = candidate
                nl += 1
                if len(lines[nl].tokens) > 1:
                    break  # more words follow it: the URL ends on this line
            # A dash or bracket ending one line before a URL that opens the next is not its scheme.
            if url is None or not any(c.isalnum() for c in parts_tok[0].text):
                continue
            for k in range(1, len(parts_tok)):
                consumed.add((li + k, 0))
            texts = [t.text for t in parts_tok]
            parts_tok[0] = _trim(parts_tok[0], url, "left", texts[1:])
            texts[0] = parts_tok[0].text
            parts_tok[-1] = _trim(parts_tok[-1], url, "right", texts[:-1])
            texts[-1] = parts_tok[-1].text
            printed = join_wrapped(texts)
            out.append(PageLink(printed, url, texts, [_box(t) for t in parts_tok],
                                ambiguous=_is_bare(url, printed) and url not in annotated))
    return out


# ------------------------------------------------------------------ camera
@dataclass(frozen=True)
class RealCameraConfig:
    """A camera unlike training.camera's on purpose (see the module doc)."""

    out_sizes: tuple[tuple[int, int], ...] = ((1280, 960), (1024, 768), (960, 720), (800, 600), (720, 960), (1280, 720))
    line_px_640: tuple[float, float] = (13.0, 38.0)  # target link line height when the long side is 640
    max_tilt_deg: float = 28.0  # pitch / yaw of the camera against the page
    max_roll_deg: float = 14.0
    focal_frac: tuple[float, float] = (0.7, 1.4)  # focal length / image width
    oversample: tuple[float, float] = (1.0, 1.9)  # render DPI / output scale
    distortion_k1: tuple[float, float] = (-0.14, 0.08)  # radial, in half-diagonals
    light_gradient: tuple[float, float] = (0.0, 0.45)  # darkening across the frame
    hand_shadow_p: float = 0.3
    texture_strength: tuple[float, float] = (0.0, 0.06)
    defocus_px: tuple[float, float] = (0.0, 2.2)  # disc radius at the far edge
    full_well: tuple[float, float] = (60.0, 1500.0)  # photons at white: Poisson noise
    read_noise: float = 0.006
    sharpen: tuple[float, float] = (0.0, 0.9)
    jpeg_quality: tuple[int, int] = (55, 92)
    double_jpeg_p: float = 0.3


# "near": a camera held close to one link, as a webcam over a book (the
# held-out sets). "far": a phone or camera photo of the whole page or most
# of it, 3-12 megapixels, where a link's line is a small part of the frame
# (the detector then sees it far below the near set's size unless photo mode
# looks again at a larger input).
CAMERAS: Mapping[str, RealCameraConfig] = MappingProxyType({
    "near": RealCameraConfig(),
    "far": RealCameraConfig(out_sizes=((4032, 3024), (3264, 2448), (2592, 1944), (2048, 1536), (3024, 4032),
                                       (2448, 3264)),
                            line_px_640=(5.0, 12.0)),
})


@dataclass
class View:
    """Page points -> output pixels: a homography, then radial distortion."""

    homography: np.ndarray
    k1: float
    size: tuple[int, int]

    def _norm(self) -> tuple[np.ndarray, float]:
        w, h = self.size
        return np.array([w / 2, h / 2], np.float64), float(np.hypot(w / 2, h / 2))

    def distort(self, pts_ideal: np.ndarray) -> np.ndarray:
        """Ideal (pinhole) pixels -> distorted output pixels (fixed point)."""
        c, r0 = self._norm()
        u = np.asarray(pts_ideal, np.float64) - c
        d = u.copy()
        for _ in range(20):
            r2 = (d ** 2).sum(-1, keepdims=True) / r0 ** 2
            d = u / (1.0 + self.k1 * r2)
        return d + c

    def undistort(self, pts: np.ndarray) -> np.ndarray:
        c, r0 = self._norm()
        d = np.asarray(pts, np.float64) - c
        return c + d * (1.0 + self.k1 * (d ** 2).sum(-1, keepdims=True) / r0 ** 2)

    def forward(self, pts_pt: np.ndarray) -> np.ndarray:
        p = cv2.perspectiveTransform(np.asarray(pts_pt, np.float64).reshape(-1, 1, 2), self.homography).reshape(-1, 2)
        return self.distort(p)

    def backward(self, pts_px: np.ndarray) -> np.ndarray:
        p = self.undistort(pts_px)
        return cv2.perspectiveTransform(p.reshape(-1, 1, 2), np.linalg.inv(self.homography)).reshape(-1, 2)


def _rot(axis: int, a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    m = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def pose_camera(rng: np.random.Generator, center_pt: tuple[float, float], scale: float, size: tuple[int, int],
                cfg: RealCameraConfig) -> View:
    """A pinhole camera aimed at ``center_pt`` on the page, tilted in 3D,
    ``scale`` output pixels per point at the centre."""
    w, h = size
    f = w * rng.uniform(*cfg.focal_frac)
    tilt = np.deg2rad(cfg.max_tilt_deg)
    r = (_rot(2, np.deg2rad(rng.uniform(-cfg.max_roll_deg, cfg.max_roll_deg)))
         @ _rot(0, rng.uniform(-tilt, tilt)) @ _rot(1, rng.uniform(-tilt, tilt) * 0.8))
    dist = f / scale  # in points: the centre is imaged at ``scale`` px/pt
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    rt = np.column_stack([r[:, 0], r[:, 1], [0.0, 0.0, dist]])
    move = np.array([[1, 0, -center_pt[0]], [0, 1, -center_pt[1]], [0, 0, 1]], np.float64)
    hm = k @ rt @ move
    hm /= hm[2, 2]
    # hm[2, 2] is the page origin's depth, which a steep view of a page's
    # lower part puts behind the camera: then every point in front of it
    # came out with a negative w, and _project_line dropped every link of
    # the view (5 of the 240 images had no labels). Negating changes no
    # projected point (x / w exactly), so the images stay as they were.
    if (hm @ np.array([center_pt[0], center_pt[1], 1.0]))[2] < 0:
        hm = -hm
    # Pinhole with a tilted page: the centre's scale is f/dist only to first
    # order, close enough for choosing a text size.
    return View(hm, float(rng.uniform(*cfg.distortion_k1)), (w, h))


def _disc_kernel(radius: float) -> np.ndarray:
    n = int(np.ceil(radius)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)
    return k / k.sum()


def photograph_page(rng: np.random.Generator, page, view: View, render_scale: float, cfg: RealCameraConfig,
                    max_render_px: int = 7_000_000) -> bytes:
    """Render the part of ``page`` the view sees and photograph it -> JPEG bytes."""
    import pymupdf

    w, h = view.size
    # The page area the frame sees (its border mapped back), padded a little.
    t = np.linspace(0, 1, 9)
    border = np.concatenate([np.stack([t * w, np.zeros_like(t)], 1), np.stack([t * w, np.full_like(t, h)], 1),
                             np.stack([np.zeros_like(t), t * h], 1), np.stack([np.full_like(t, w), t * h], 1)])
    pts = view.backward(border)
    pr = page.rect
    x0, y0 = max(pr.x0, pts[:, 0].min() - 4), max(pr.y0, pts[:, 1].min() - 4)
    x1, y1 = min(pr.x1, pts[:, 0].max() + 4), min(pr.y1, pts[:, 1].max() + 4)
    paper = np.array([rng.uniform(0.86, 0.97)] * 3) * (1 + rng.normal(0, 0.015, 3))
    desk = rng.uniform(0.05, 0.5, 3)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError("the view does not see the page")
    area = (x1 - x0) * (y1 - y0)
    zoom = min(render_scale, np.sqrt(max_render_px / area))
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=pymupdf.Rect(x0, y0, x1, y1), alpha=False,
                          colorspace=pymupdf.csRGB)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)[..., :3].astype(np.float32) / 255.0
    img *= paper[None, None, :].astype(np.float32)  # white paper is never 255 under a lamp
    over = zoom / max(1e-6, _center_scale(view))  # render pixels per output pixel
    if over > 1.2:  # the lens and sensor integrate: anti-alias before sampling
        img = cv2.GaussianBlur(img, (0, 0), 0.45 * over)
    # One remap: output pixel -> undistort -> page point -> render pixel.
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64) + 0.0, np.arange(h, dtype=np.float64))
    page_pts = view.backward(np.stack([gx.ravel(), gy.ravel()], 1))
    mx = ((page_pts[:, 0] - x0) * zoom).reshape(h, w).astype(np.float32)
    my = ((page_pts[:, 1] - y0) * zoom).reshape(h, w).astype(np.float32)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(float(v) for v in desk))
    on_page = cv2.remap(np.ones(img.shape[:2], np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)

    # Paper texture: fibres and soft blotches, on the page only.
    s = rng.uniform(*cfg.texture_strength)
    if s > 0:
        fib = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.6, 1.5))
        blot = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        out *= (1.0 + s * (0.5 * fib / (fib.std() + 1e-6) + blot) * on_page)[..., None]

    # Depth-dependent defocus: sharp on one side, a disc blur on the other.
    r_far = rng.uniform(*cfg.defocus_px)
    if r_far > 0.5:
        blurred = cv2.filter2D(out, -1, _disc_kernel(r_far))
        ang = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(ang) * (gx / w - 0.5) + np.sin(ang) * (gy / h - 0.5)).astype(np.float32)
        ramp = np.clip(ramp * rng.uniform(1.0, 2.5) + rng.uniform(0.2, 0.8), 0, 1)[..., None]
        out = out * (1 - ramp) + blurred * ramp

    # Light: a directional gradient, vignetting, sometimes a hand's shadow,
    # a colour temperature.
    ang = rng.uniform(0, 2 * np.pi)
    lin = (np.cos(ang) * (gx / w - 0.5) + np.sin(ang) * (gy / h - 0.5)).astype(np.float32) + 0.5
    gain = 1.0 - rng.uniform(*cfg.light_gradient) * np.clip(lin, 0, 1)
    rr = ((gx - w / 2) ** 2 + (gy - h / 2) ** 2) / (w * w / 4 + h * h / 4)
    gain *= (1.0 / (1.0 + rng.uniform(0.0, 0.5) * rr)).astype(np.float32) ** 2
    if rng.random() < cfg.hand_shadow_p:
        a2 = rng.uniform(0, 2 * np.pi)
        edge = (np.cos(a2) * (gx - w / 2) + np.sin(a2) * (gy - h / 2)) / max(w, h) - rng.uniform(0.1, 0.45)
        soft = rng.uniform(0.03, 0.12)
        gain *= (1.0 - rng.uniform(0.25, 0.5) / (1.0 + np.exp(-edge / soft))).astype(np.float32)
    temp = rng.uniform(-0.12, 0.12)
    out = out * gain[..., None] * np.array([1 - temp, 1.0, 1 + temp], np.float32)[None, None, :]  # RGB

    # Sensor: Poisson shot noise at the pixel's photon count, read noise.
    well = float(np.exp(rng.uniform(np.log(cfg.full_well[0]), np.log(cfg.full_well[1]))))
    out = np.clip(out, 0, 1)
    out = rng.poisson(out * well).astype(np.float32) / well + rng.normal(0, cfg.read_noise, out.shape).astype(np.float32)
    # Phone ISP: gamma, then unsharp masking.
    out = np.clip(out, 0, 1) ** rng.uniform(0.85, 1.1)
    amt = rng.uniform(*cfg.sharpen)
    if amt > 0.05:
        out = out + amt * (out - cv2.GaussianBlur(out, (0, 0), 1.2))
    bgr = np.clip(out[..., ::-1] * 255 + 0.5, 0, 255).astype(np.uint8)
    q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    if ok and rng.random() < cfg.double_jpeg_p:  # shared and re-saved once
        ok, buf = cv2.imencode(".jpg", cv2.imdecode(buf, cv2.IMREAD_COLOR), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 91))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _center_scale(view: View) -> float:
    """Output pixels per point at the frame centre."""
    w, h = view.size
    p = view.backward(np.array([[w / 2, h / 2], [w / 2 + 10, h / 2], [w / 2, h / 2 + 10]]))
    return float(20.0 / (np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[2] - p[0])))


def box_quad(box: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def aim_camera(rng: np.random.Generator, target: PageLink, size: tuple[int, int],
               cam: RealCameraConfig) -> View | None:
    """A camera of ``size`` pixels posed near ``target`` (the link whole in
    the frame; a long one is photographed from further away, others around
    it may be cut by the edge); None when six tries do not fit it."""
    w, h = size
    line_pt = float(np.mean([b[3] - b[1] for b in target.boxes]))
    x0, y0 = min(b[0] for b in target.boxes), min(b[1] for b in target.boxes)
    x1, y1 = max(b[2] for b in target.boxes), max(b[3] for b in target.boxes)
    scale = rng.uniform(*cam.line_px_640) * max(w, h) / 640.0 / max(line_pt, 1.0)
    scale = min(scale, 0.85 * w / max(x1 - x0, 1.0), 0.85 * h / max(y1 - y0, 1.0))
    for _attempt in range(6):
        vw, vh = w / scale, h / scale
        # Aim near the target link, not always at it.
        cx = (x0 + x1) / 2 + rng.uniform(-0.5, 0.5) * max(0.0, 0.8 * vw - (x1 - x0))
        cy = (y0 + y1) / 2 + rng.uniform(-0.5, 0.5) * max(0.0, 0.8 * vh - (y1 - y0))
        view = pose_camera(rng, (cx, cy), scale, (w, h), cam)
        q = view.forward(np.concatenate([box_quad(b) for b in target.boxes]))
        if (q >= 2).all() and (q[:, 0] <= w - 2).all() and (q[:, 1] <= h - 2).all():
            return view
        scale *= 0.9
    return None


def film_page(rng: np.random.Generator, page, links: list[PageLink], target: PageLink, size: tuple[int, int],
              path: Path, frames: int = 40, fps: int = 15, cam: RealCameraConfig | None = None) -> list[str]:
    """A slow hand-held pan over a real page, filmed by this module's camera
    (``aim_camera``, ``photograph_page``), written to ``path`` (mp4). One
    camera, light and noise draw for the whole clip; the pan moves the view
    as ``training.samples.make_clip`` does. Returns the printed URLs whole in
    every frame ([] when the camera cannot be aimed: nothing written)."""
    from training.samples import pan_shift

    cam = cam or RealCameraConfig()
    view = aim_camera(rng, target, size, cam)
    if view is None:
        return []
    render_scale = _center_scale(view) * rng.uniform(*cam.oversample)
    look = int(rng.integers(2 ** 31))
    w, h = size
    k = w / 640
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RealDocsError("OpenCV cannot write mp4 here")
    always: set[str] | None = None
    try:
        for i in range(frames):
            t = i / max(1, frames - 1)
            moved = View(pan_shift(t, k) @ view.homography, view.k1, view.size)
            jpeg = photograph_page(np.random.default_rng(look), page, moved, render_scale, cam)
            writer.write(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
            seen = {lab["url"] for lab in _labels_for(moved, links) if not lab["partial"]}
            always = seen if always is None else always & seen
    finally:
        writer.release()
    return sorted(always or [])


# ------------------------------------------------------------------ build
@dataclass(frozen=True)
class BuildConfig:
    images: int = 240
    seed: int = 0
    max_pages_scanned: int = 120  # per document, spread over it
    max_doc_pages: int = 1000  # longer ones are function references (R's refman): skipped
    wrapped_share: float = 0.35  # images aimed at a link printed over two or more lines
    camera: RealCameraConfig = field(default_factory=RealCameraConfig)


@dataclass
class BuildReport:
    images: int
    links: int
    line_quads: int
    cut_links: int  # cut by the frame edge (not scored)
    ambiguous_links: int  # bare hosts no annotation confirms (not scored)
    wrapped_links: int
    documents: int
    packages: int
    seconds: float


def scan_pages(sources: list[DocSource], cfg: BuildConfig, progress: bool) -> tuple[dict, list[dict]]:
    """Pages with at least one printed URL, per package and document."""
    import pymupdf

    by_pkg: dict[str, list[tuple[DocSource, int, list[PageLink]]]] = {}
    docs_info = []
    for src in tqdm(sources, desc="scan PDFs", disable=not progress):
        doc = pymupdf.open(src.path)
        n = doc.page_count
        info = {"package": src.package, "version": src.version, "file": src.path.name, "pages": n,
                "pages_scanned": 0, "pages_with_links": 0, "links": 0}
        docs_info.append(info)
        if n > cfg.max_doc_pages:
            info["skipped"] = f"over {cfg.max_doc_pages} pages"
            continue
        idx = np.unique(np.linspace(0, n - 1, min(n, cfg.max_pages_scanned)).round().astype(int))
        for pi in idx:
            page = doc[int(pi)]
            info["pages_scanned"] += 1
            if page.rotation:
                continue
            links = page_links(page)
            if links:
                info["pages_with_links"] += 1
                info["links"] += len(links)
                by_pkg.setdefault(src.package, []).append((src, int(pi), links))
    return by_pkg, docs_info


def plan_views(by_pkg: dict, cfg: BuildConfig, rng: np.random.Generator) -> list[tuple[DocSource, int, PageLink]]:
    """Spread the images evenly over packages; aim each at one printed link,
    a wrapped one more often than they occur (they are the hard case)."""
    pkgs = sorted(by_pkg)
    plan: list[tuple[DocSource, int, PageLink]] = []
    if not pkgs:
        return plan
    per = [cfg.images // len(pkgs) + (i < cfg.images % len(pkgs)) for i in range(len(pkgs))]
    for pkg, n in zip(pkgs, per):
        cands = [(src, pi, ln) for src, pi, links in by_pkg[pkg] for ln in links if not ln.ambiguous] or \
                [(src, pi, ln) for src, pi, links in by_pkg[pkg] for ln in links]
        wrapped = [c for c in cands if len(c[2].boxes) > 1]
        for _ in range(n):
            pool = wrapped if wrapped and rng.random() < cfg.wrapped_share else cands
            plan.append(pool[int(rng.integers(len(pool)))])
    return plan


def links_on_page(by_pkg: dict, src: DocSource, page: int) -> list[PageLink]:
    """Every printed link ``scan_pages`` found on one page of a plan's entry."""
    return next(lk for s, p, lk in by_pkg[src.package] if s.path == src.path and p == page)


def _project_line(view: View, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """A printed line's box -> its quad in the frame. A line running far out
    of the frame is cut where it leaves a margin around it first, so the
    perspective (points behind the camera) and the lens model (valid near the
    frame only) are never applied where they do not hold. None if nothing is left."""
    x0, y0, x1, y1 = box
    t = np.linspace(0.0, 1.0, 65)
    xs = x0 + (x1 - x0) * t
    top = np.stack([xs, np.full_like(xs, y0), np.ones_like(xs)], 1) @ view.homography.T
    bot = np.stack([xs, np.full_like(xs, y1), np.ones_like(xs)], 1) @ view.homography.T
    c, r0 = view._norm()
    ok = (top[:, 2] > 1e-9) & (bot[:, 2] > 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        pt, pb = top[:, :2] / top[:, 2:], bot[:, :2] / bot[:, 2:]
    reach = 1.4
    if view.k1 < 0:  # barrel: ideal radii beyond r(1 + k r^2)'s maximum have no distorted point
        rd = 1.0 / np.sqrt(3.0 * -view.k1)
        reach = min(reach, 0.95 * rd * (1.0 + view.k1 * rd * rd))
    ok &= (np.linalg.norm(pt - c, axis=1) < reach * r0) & (np.linalg.norm(pb - c, axis=1) < reach * r0)
    if not ok.any():
        return None
    # The longest run of usable samples (the line is straight: one run).
    idx = np.flatnonzero(ok)
    i0, i1 = idx[0], idx[-1]
    q = np.array([pt[i0], pt[i1], pb[i1], pb[i0]])
    return view.distort(q)


def _labels_for(view: View, links: list[PageLink]) -> list[dict]:
    w, h = view.size
    out = []
    for ln in links:
        quads, partial = [], False
        for box in ln.boxes:
            q = _project_line(view, box)
            if q is None:
                partial = True
                continue
            inside = (q[:, 0] >= -1) & (q[:, 0] <= w + 1) & (q[:, 1] >= -1) & (q[:, 1] <= h + 1)
            if not inside.all():
                partial = True
            if q[:, 0].max() < 0 or q[:, 0].min() > w or q[:, 1].max() < 0 or q[:, 1].min() > h:
                continue  # this line is off the frame
            quads.append(q)
        if not quads:
            continue
        # "partial" tells the evaluator not to score a link either way: it is
        # cut by the frame ("why": "cut") or may not be a link ("ambiguous").
        why = "cut" if partial else ("ambiguous" if ln.ambiguous else None)
        out.append({"url": ln.url, "normalized": ln.normalized, "parts": ln.parts, "partial": why is not None,
                    "why": why,
                    "quads": [[[round(float(x), 2), round(float(y), 2)] for x, y in q] for q in quads]})
    return out


def build(sources: list[DocSource], out: Path, cfg: BuildConfig | None = None, progress: bool = True,
          packages_meta: list[dict] | None = None, command: str | None = None) -> BuildReport:
    import pymupdf

    cfg = cfg or BuildConfig()
    t0 = time.time()
    rng = np.random.default_rng(cfg.seed)
    by_pkg, docs_info = scan_pages(sources, cfg, progress)
    plan = plan_views(by_pkg, cfg, rng)
    if not plan:
        raise RealDocsError("no printed URLs found in the given PDFs")
    if out.exists():
        shutil.rmtree(out / "images", ignore_errors=True)
    (out / "images").mkdir(parents=True, exist_ok=True)
    cam = cfg.camera
    open_docs: dict[Path, object] = {}
    records = []
    for i, (src, pi, target) in enumerate(tqdm(plan, desc="photograph", disable=not progress)):
        doc = open_docs.setdefault(src.path, pymupdf.open(src.path))
        page = doc[pi]  # type: ignore[index]
        all_links = links_on_page(by_pkg, src, pi)
        w, h = cam.out_sizes[int(rng.integers(len(cam.out_sizes)))]
        view = aim_camera(rng, target, (w, h), cam)
        if view is None:
            continue
        render_scale = _center_scale(view) * rng.uniform(*cam.oversample)
        try:
            jpeg = photograph_page(rng, page, view, render_scale, cam)
        except ValueError:
            continue
        links = _labels_for(view, all_links)
        name = f"images/{i:04d}_{src.path.stem[:24]}_p{pi + 1}.jpg"
        (out / name).write_bytes(jpeg)  # the camera's own JPEG, not re-encoded
        records.append({"image": name, "width": w, "height": h, "doc": src.path.name, "package": src.package,
                        "page": pi + 1, "links": links})
    with (out / "labels.jsonl").open("w") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    all_links = [ln for r in records for ln in r["links"]]
    rep = BuildReport(
        images=len(records), links=len(all_links), line_quads=sum(len(ln["quads"]) for ln in all_links),
        cut_links=sum(ln["why"] == "cut" for ln in all_links),
        ambiguous_links=sum(ln["why"] == "ambiguous" for ln in all_links),
        wrapped_links=sum(len(ln["quads"]) > 1 for ln in all_links),
        documents=len({r["doc"] for r in records}), packages=len({r["package"] for r in records}),
        seconds=round(time.time() - t0, 1))
    manifest = {
        "command": command,
        "seed": cfg.seed, "config": asdict(cfg), "report": asdict(rep),
        "packages": packages_meta or sorted({(s.package, s.version) for s in sources}),
        "documents": docs_info, "pymupdf": pymupdf.VersionBind,
        "labels": "labels.jsonl: image, width, height, doc, package, page, links[url, normalized, parts, partial, quads]",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return rep


# ------------------------------------------------------------------ preview
def preview(data: Path, out: Path, count: int = 16, tile: int = 380, seed: int = 0) -> None:
    """A contact sheet of ``count`` images with their labels drawn."""
    rows = [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines()]
    rng = np.random.default_rng(seed)
    with_links = [r for r in rows if r["links"]]
    pick = [with_links[i] for i in sorted(rng.choice(len(with_links), min(count, len(with_links)), replace=False))]
    tiles = []
    for r in pick:
        img = cv2.imread(str(data / r["image"]), cv2.IMREAD_COLOR)
        for ln in r["links"]:
            col = (0, 140, 255) if ln["partial"] else (0, 200, 0)
            for q in ln["quads"]:
                cv2.polylines(img, [np.round(np.array(q)).astype(np.int32)], True, col, 2)
        s = tile / max(img.shape[:2])
        img = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        canvas = np.full((tile + 34, tile, 3), 255, np.uint8)
        canvas[:img.shape[0], :img.shape[1]] = img
        cv2.putText(canvas, f"{r['doc'][:30]} p{r['page']}", (4, tile + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        urls = "; ".join(ln["url"] for ln in r["links"])[:64]
        cv2.putText(canvas, urls, (4, tile + 28), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 100, 0), 1)
        tiles.append(canvas)
    while len(tiles) % 4:
        tiles.append(np.full_like(tiles[0], 255))
    sheet = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)])
    from training.preview import save_sheet

    save_sheet(out, sheet)


# ------------------------------------------------------------------ CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="download the documentation packages and build the set")
    b.add_argument("--out", type=Path, default=Path("data/realdocs"))
    b.add_argument("--src", type=Path, default=Path("data/realdocs_src"), help="download cache")
    b.add_argument("--images", type=int, default=BuildConfig.images)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--pdf", type=Path, nargs="*", default=[], help="extra PDFs (package 'local')")
    b.add_argument("--no-packages", action="store_true", help="only the --pdf files")
    b.add_argument("--packages", choices=sorted(PACKAGE_SETS), default="validation",
                   help="validation: the held-out set's packages (default); tune: other packages, to choose models on")
    b.add_argument("--preview", type=Path, help="also write a contact sheet here")
    b.add_argument("--camera", choices=sorted(CAMERAS), default="near",
                   help="near: one link close up (default); far: the whole page, 3-12 megapixels")
    p = sub.add_parser("preview", help="contact sheet with the labels drawn")
    p.add_argument("--data", type=Path, default=Path("data/realdocs"))
    p.add_argument("--out", type=Path, default=Path("docs/realdocs_preview.png"))
    p.add_argument("--count", type=int, default=16)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        if args.cmd == "preview":
            if not (args.data / "labels.jsonl").is_file():
                raise RealDocsError(f"no labels.jsonl in {args.data}: build the set first")
            preview(args.data, args.out, args.count)
            print(f"wrote {args.out}")
            return 0
        sources = [] if args.no_packages else fetch_packages(args.src, PACKAGE_SETS[args.packages])
        for pdf in args.pdf:
            if not pdf.is_file():
                raise RealDocsError(f"no such PDF: {pdf}")
            sources.append(DocSource(pdf, "local", "-"))
        if not sources:
            raise RealDocsError("no documents: drop --no-packages or give PDFs with --pdf")
        meta = [{"package": n, "version": v, "deb": d, "sha256": h}
                for n, v, d, h in sorted({(s.package, s.version, s.deb, s.deb_sha256) for s in sources})]
        rep = build(sources, args.out, BuildConfig(images=args.images, seed=args.seed, camera=CAMERAS[args.camera]), packages_meta=meta,
                    command="python -m training.realdocs " + " ".join(argv if argv is not None else sys.argv[1:]))
        print(f"{args.out}: {rep.images} images, {rep.links} links ({rep.wrapped_links} wrapped, "
              f"{rep.cut_links} cut by the frame, {rep.ambiguous_links} ambiguous: not scored), {rep.line_quads} line quads, from {rep.documents} documents "
              f"in {rep.packages} packages, {rep.seconds:.0f} s")
        if args.preview:
            preview(args.out, args.preview)
            print(f"wrote {args.preview}")
        return 0
    except RealDocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
