"""Reads the printed lines of links with Tesseract.

Each link line the detector found is first fitted to the printed line
(``edge_app.line_fit``), then cut out of the FULL-resolution frame with a
perspective warp, scaled to the text height Tesseract reads best,
binarised and read as a single line. Reading only these lines, once per
tracked link, is what keeps OCR at tens of milliseconds per frame instead
of seconds for a whole page.

Two engines:

* ``tesserocr`` keeps the Tesseract library loaded in the process: no
  program start per call. The default (see ``ReaderSettings.engine``).
* ``pytesseract`` starts the ``tesseract`` program for every call (a few
  hundred ms each), so it reads all lines of a frame in one call, stacked
  into one image. The fallback where tesserocr cannot be imported.

Threads: a ``LineReader`` owns its Tesseract instances, which are not
re-entrant. Use one ``LineReader`` per thread (the Qt app creates its own
in its worker thread); calls on one reader from several threads are
serialised by a lock rather than corrupting it. tesserocr releases the GIL
while it recognises, so a worker thread does not freeze the GUI, and the
lines of one frame can be read in parallel: with ``workers`` > 1 the
tesserocr engine keeps that many instances and splits each frame's lines
between them (the detector is idle meanwhile, so its cores are free).
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np

from edge_app.binarize import Binarize
from edge_app.binarize import binarize as binarize_line
from edge_app.errors import OcrError
from edge_app.line_fit import FitSettings, fit_line
from edge_app.preprocess import to_gray
from edge_app.results import quad_axes, quad_height, quad_size
from edge_app.urls import normalize_url

log = logging.getLogger(__name__)

SETUP_HINT = "run scripts/setup-system.sh (or: sudo apt-get install tesseract-ocr tesseract-ocr-eng)"

# Where Debian/Ubuntu, Fedora, Homebrew and source builds put tessdata.
TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tesseract-ocr/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/*/tessdata",
    "/opt/homebrew/share/tessdata",
)

# Every character a printed URL uses (RFC 3986 unreserved + reserved + %),
# plus the few Tesseract must be free to emit for the repair rules to work
# on (a space, typographic quotes are deliberately left out).
URL_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "-._~:/?#[]@!$&'()*+,;=%"
)

Engine = Literal["auto", "tesserocr", "pytesseract"]


@dataclass(frozen=True)
class ReaderSettings:
    """How link lines are cut out and read. Defaults are measured; see
    tests/test_reader.py and the module's report for the figures."""

    # Height in pixels of the rectified line. The quad spans ascenders to
    # descenders, so capitals are about 0.6 of it (~38 px here). Chosen on the
    # synthetic tuning split read from its true quads (exact URLs, 839 links:
    # 0.139 at 44 px, 0.141 at 56, 0.144 at 64, 0.137 at 72); the real-documents
    # set agrees (0.629 -> 0.684 from 44 to 64 px, 474 links).
    line_height: int = 64
    # White border around the line, as a fraction of line_height: Tesseract
    # misreads glyphs that touch the image edge.
    pad: float = 0.3
    # Extra source context around the quad, as a fraction of its height, in
    # case the detector's quad clips the glyphs.
    margin: float = 0.08
    # "local" flattens shading first (a hand's shadow, a lit box; see
    # _flatten). Chosen on the synthetic tuning split from true quads (exact,
    # 839 links, at 64 px): otsu 0.145, local 0.191; real documents 0.681 -> 0.698.
    # Cleaning the binarised cut-out further was tried, photo mode, first 150
    # real documents / tuning split, exact (0.457 / 0.115 without): dropping
    # ink specks under (0.05 x line_height)^2 pixels 0.465 / 0.104; dropping
    # horizontal runs a line height long (underlines, table rules) 0.465 /
    # 0.101. A speck read as "_" is as large as an i's dot, and the rules'
    # removal cuts descenders: not kept.
    binarize: Binarize = "local"
    # A line whose reading is not a valid URL is read once more, cut out with
    # this binarisation (None: never). Otsu loses thin strokes of small,
    # blurred text that Tesseract's own thresholding of the gray line keeps.
    fallback: Binarize | None = "none"
    psm: int = 7  # a single text line
    # Characters Tesseract may output (None: any). Measured: URL_CHARS is
    # slightly better (+0.4 to +1 point), never worse, and keeps typographic
    # quotes and symbols out of the text.
    whitelist: str | None = URL_CHARS
    # Fit each quad to the printed line before cutting it out (see
    # edge_app.line_fit): the detector's quads are often a character short
    # at an end, or tall enough to take in the neighbouring lines.
    fit_lines: bool = True
    engine: Engine = "auto"
    # Tesseract's own second attempt at a low-confidence line, inverted. The
    # cut-outs are already dark on light, so it is wasted work: off. Synthetic
    # tuning split, true quads, 424 links: same readings, 38.9 -> 32.1 ms per
    # line; real documents: same readings, 27.0 -> 26.4 ms.
    tesseract_invert: bool = False
    # tesserocr only: Tesseract instances reading one frame's lines in
    # parallel threads (the library releases the GIL). Bundled clip, 2 cores,
    # medians of 3 bench runs: OCR 21.8 -> 14.9 ms per frame, overall
    # 29.7 -> 37.4 frames/s, same readings.
    workers: int = 2
    # pytesseract only: stack all lines of a frame into one image (one
    # program start per frame instead of one per line).
    batch: bool = True
    lang: str = "eng"
    # Directory holding <lang>.traineddata; found when None (the system's:
    # Debian's tessdata_fast). The "best" LSTM model converted to integers
    # (npm @tesseract.js-data/eng 1.0.0, 4.0.0_best_int) read no better from
    # true quads, first 150 real documents / 150 tuning frames, exact: 0.796
    # / 0.173 against 0.796 / 0.187, and took 1.4x as long.
    tessdata: str | None = None
    tesseract_cmd: str | None = None  # pytesseract: the tesseract program; PATH when None


@dataclass(frozen=True)
class LineReading:
    text: str
    confidence: float  # 0..1, Tesseract's mean word confidence


# One way of cutting a line out for a read: its height in pixels (None: the
# settings' line_height) and its binarisation (None: the settings').
Look = tuple[int | None, Binarize | None]


# ---------------------------------------------------------------- geometry
def _expand_quad(quad: np.ndarray, margin: float) -> np.ndarray:
    """Grow the quad by ``margin`` x its height on every side, along its own axes."""
    tl, tr, br, bl = quad
    d = margin * quad_height(quad)
    ux, uy = quad_axes(quad)
    return np.array([tl - d * ux - d * uy, tr + d * ux - d * uy, br + d * ux + d * uy, bl - d * ux + d * uy],
                    np.float32)


def rectify(frame: np.ndarray, quad: np.ndarray, pad: float = ReaderSettings.pad,
            line_height: int = ReaderSettings.line_height, binarize: Binarize = ReaderSettings.binarize,
            margin: float = ReaderSettings.margin) -> np.ndarray:
    """Upright, dark-on-light, grayscale (or binary) image of one text line.

    ``quad`` is in ``frame`` pixels (tl, tr, br, bl in reading order). The
    warp samples the full-resolution frame directly, so no detail is lost to
    the detector's downscaled input. Light text on a dark background is
    inverted: ink is whichever tone covers less of the line.
    """
    gray = to_gray(frame)
    q = _expand_quad(np.asarray(quad, np.float32).reshape(4, 2), margin)
    w, h = quad_size(q)
    if w < 1 or h < 1:
        raise ValueError(f"degenerate quad {q.tolist()}")
    scale = line_height / h
    out_w = max(1, int(round(w * scale)))
    if scale >= 1:
        dst = np.array([[0, 0], [out_w, 0], [out_w, line_height], [0, line_height]], np.float32)
        m = cv2.getPerspectiveTransform(q, dst)
        line = cv2.warpPerspective(gray, m, (out_w, line_height), flags=cv2.INTER_CUBIC,
                                   borderMode=cv2.BORDER_REPLICATE)
    else:
        # Warp at the source scale, then shrink with area averaging: a
        # direct downscaling warp aliases thin strokes away.
        sw, sh = max(1, int(round(w))), max(1, int(round(h)))
        dst = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
        m = cv2.getPerspectiveTransform(q, dst)
        line = cv2.warpPerspective(gray, m, (sw, sh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        line = cv2.resize(line, (out_w, line_height), interpolation=cv2.INTER_AREA)
    if binarize == "none":
        # Polarity from Otsu's split even when the gray image is kept.
        _, split = cv2.threshold(line, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if np.count_nonzero(split) < split.size / 2:
            line = 255 - line
    else:
        line = binarize_line(line, binarize)
        if np.count_nonzero(line) < line.size / 2:
            line = 255 - line
    p = max(1, int(round(pad * line_height)))
    return cv2.copyMakeBorder(line, p, p, p, p, cv2.BORDER_CONSTANT, value=255)


# ---------------------------------------------------------------- tessdata
def find_tessdata(lang: str = "eng", explicit: str | None = None) -> str:
    """Directory holding ``<lang>.traineddata``, or OcrError saying how to install it."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    else:
        env = os.environ.get("TESSDATA_PREFIX")
        if env:
            candidates += [Path(env), Path(env) / "tessdata"]
        listed = _tessdata_from_program()
        if listed:
            candidates.append(listed)
        for pattern in TESSDATA_GLOBS:
            candidates += sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)  # newest version first
    for c in candidates:
        if (c / f"{lang}.traineddata").is_file():
            return str(c)
    where = explicit or ", ".join(str(c) for c in candidates) or "the usual places"
    raise OcrError(f"Tesseract language data '{lang}.traineddata' not found in {where}: {SETUP_HINT}")


def _tessdata_from_program(cmd: str = "tesseract") -> Path | None:
    """The directory the tesseract program reports in ``--list-langs``."""
    exe = shutil.which(cmd)
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'"([^"]+)"', out.stdout + out.stderr)
    return Path(m.group(1)) if m else None


# ----------------------------------------------------------------- engines
class _Engine(Protocol):
    name: str
    workers: int

    def read(self, images: list[np.ndarray]) -> list[LineReading]: ...

    def read_page(self, gray: np.ndarray) -> str: ...

    def close(self) -> None: ...


class _TesserocrEngine:
    """The Tesseract library, loaded once, reading one line per call; with
    several workers, one instance per worker thread."""

    name = "tesserocr"

    def __init__(self, settings: ReaderSettings, tessdata: str) -> None:
        import tesserocr  # optional dependency: the caller falls back on ImportError

        self._tesserocr = tesserocr
        self._psm = settings.psm
        self._apis: list = []
        try:
            for _ in range(max(1, int(settings.workers))):
                api = tesserocr.PyTessBaseAPI(path=tessdata, lang=settings.lang, psm=settings.psm,
                                              oem=tesserocr.OEM.LSTM_ONLY)
                self._apis.append(api)
                if settings.whitelist:
                    api.SetVariable("tessedit_char_whitelist", settings.whitelist)
                api.SetVariable("tessedit_do_invert", "1" if settings.tesseract_invert else "0")
        except RuntimeError as e:
            self.close()
            raise OcrError(f"Tesseract could not load '{settings.lang}' from {tessdata} ({e}): {SETUP_HINT}") from e
        self.workers = len(self._apis)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ocr") if self.workers > 1 else None

    @staticmethod
    def _set(api, img: np.ndarray) -> None:  # noqa: ANN001 - a tesserocr.PyTessBaseAPI
        img = np.ascontiguousarray(img)
        h, w = img.shape[:2]
        api.SetImageBytes(img.tobytes(), w, h, 1, w)
        # Rectified lines are scaled to a known height; say so, or Tesseract
        # warns about and guesses the resolution.
        api.SetSourceResolution(300)

    def _read_with(self, api, images: list[np.ndarray]) -> list[LineReading]:  # noqa: ANN001
        out = []
        for img in images:
            self._set(api, img)
            text = api.GetUTF8Text().strip()
            conf = max(0.0, float(api.MeanTextConf())) / 100.0
            out.append(LineReading(text, conf))
        return out

    def read(self, images: list[np.ndarray]) -> list[LineReading]:
        if self._pool is None or len(images) < 2:
            return self._read_with(self._apis[0], images)
        # Recognition time grows with the line's width (all lines have one
        # height): give each instance about the same total width, longest first.
        buckets: list[list[int]] = [[] for _ in self._apis]
        loads = [0] * len(self._apis)
        for i in sorted(range(len(images)), key=lambda i: -images[i].shape[1]):
            b = loads.index(min(loads))
            buckets[b].append(i)
            loads[b] += images[i].shape[1]
        jobs = [(bucket, self._pool.submit(self._read_with, api, [images[i] for i in bucket]))
                for api, bucket in zip(self._apis, buckets) if bucket]
        out: list[LineReading] = [LineReading("", 0.0)] * len(images)
        for bucket, job in jobs:
            for i, r in zip(bucket, job.result()):
                out[i] = r
        return out

    def read_page(self, gray: np.ndarray) -> str:
        api = self._apis[0]
        api.SetPageSegMode(self._tesserocr.PSM.AUTO)
        try:
            self._set(api, gray)
            return api.GetUTF8Text()
        finally:
            api.SetPageSegMode(self._psm)

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        for api in self._apis:
            api.End()
        self._apis = []


# Guards pytesseract's module-level program path while a call runs (see
# _PytesseractEngine._call); the lock itself holds no state.
_PYTESSERACT_CMD_LOCK = threading.Lock()


class _PytesseractEngine:
    """The tesseract program, started once per call."""

    name = "pytesseract"
    workers = 1  # one program start per frame (batch); see ReaderSettings.workers

    def __init__(self, settings: ReaderSettings, tessdata: str | None) -> None:
        import pytesseract

        self._pt = pytesseract
        # pytesseract keeps the program path in a module variable; this
        # engine sets its own only for the duration of each call (see _call),
        # so a reader built with a wrong path cannot break later readers.
        self._cmd = settings.tesseract_cmd or pytesseract.pytesseract.tesseract_cmd
        self._settings = settings
        cfg = ["--oem 1 --dpi 300", f"-c tessedit_do_invert={int(settings.tesseract_invert)}"]
        if tessdata:
            cfg.append("--tessdata-dir " + shlex.quote(tessdata))
        if settings.whitelist:
            # pytesseract shlex-splits the config; URL_CHARS has quotes in it.
            cfg.append("-c " + shlex.quote(f"tessedit_char_whitelist={settings.whitelist}"))
        self._cfg = " ".join(cfg)
        try:
            self._call(pytesseract.get_tesseract_version)
        except (pytesseract.TesseractNotFoundError, OSError) as e:
            raise OcrError(f"the tesseract program '{self._cmd}' was not found: {SETUP_HINT}") from e

    def _call(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202 - a thin wrapper around pytesseract calls
        mod = self._pt.pytesseract
        with _PYTESSERACT_CMD_LOCK:
            saved, mod.tesseract_cmd = mod.tesseract_cmd, self._cmd
            try:
                return fn(*args, **kwargs)
            finally:
                mod.tesseract_cmd = saved

    def _data(self, img: np.ndarray, psm: int) -> dict:
        try:
            return self._call(self._pt.image_to_data, img, lang=self._settings.lang,
                              config=f"{self._cfg} --psm {psm}", output_type=self._pt.Output.DICT)
        except self._pt.TesseractNotFoundError as e:
            raise OcrError(f"the tesseract program was not found: {SETUP_HINT}") from e
        except self._pt.TesseractError as e:
            raise OcrError(f"Tesseract failed ({e.message.strip()}): {SETUP_HINT}") from e

    @staticmethod
    def _reading(words: list[tuple[str, float]]) -> LineReading:
        words = [(t, c) for t, c in words if t.strip()]
        if not words:
            return LineReading("", 0.0)
        conf = sum(max(c, 0.0) for _, c in words) / len(words) / 100.0
        return LineReading(" ".join(t for t, _ in words), conf)

    def read(self, images: list[np.ndarray]) -> list[LineReading]:
        if not images:
            return []
        if not self._settings.batch or len(images) == 1:
            out = []
            for img in images:
                d = self._data(img, self._settings.psm)
                out.append(self._reading(list(zip(d["text"], map(float, d["conf"])))))
            return out
        # One program start for all lines: stack them with blank gaps and let
        # Tesseract segment the block; each word goes to the line whose band
        # holds its centre.
        gap = max(8, images[0].shape[0] // 2)
        width = max(i.shape[1] for i in images)
        bands, rows, y = [], [], 0
        for img in images:
            h, w = img.shape[:2]
            row = np.full((h + gap, width), 255, np.uint8)
            row[:h, :w] = img
            rows.append(row)
            bands.append((y, y + h + gap))
            y += h + gap
        stacked = np.vstack(rows)
        d = self._data(stacked, 6)
        per_line: list[list[tuple[float, str, float]]] = [[] for _ in images]
        for text, conf, left, top, height in zip(d["text"], d["conf"], d["left"], d["top"], d["height"]):
            if not str(text).strip():
                continue
            cy = top + height / 2
            for i, (y0, y1) in enumerate(bands):
                if y0 <= cy < y1:
                    per_line[i].append((float(left), str(text), float(conf)))
                    break
        return [self._reading([(t, c) for _, t, c in sorted(ws)]) for ws in per_line]

    def read_page(self, gray: np.ndarray) -> str:
        try:
            return self._call(self._pt.image_to_string, gray, lang=self._settings.lang,
                              config=f"{self._cfg} --psm 3")
        except self._pt.TesseractError as e:
            raise OcrError(f"Tesseract failed ({e.message.strip()}): {SETUP_HINT}") from e

    def close(self) -> None:
        pass


def _open_engine(settings: ReaderSettings) -> _Engine:
    if settings.engine not in ("auto", "tesserocr", "pytesseract"):
        raise ValueError(f"unknown OCR engine {settings.engine!r}")
    if settings.engine in ("auto", "tesserocr"):
        try:
            import tesserocr  # noqa: F401
        except ImportError as e:
            if settings.engine == "tesserocr":
                raise OcrError(f"tesserocr cannot be imported ({e}): pip install tesserocr, "
                               "or choose the pytesseract engine") from e
            log.info("tesserocr unavailable (%s): reading with pytesseract", e)
        else:
            return _TesserocrEngine(settings, find_tessdata(settings.lang, settings.tessdata))
    tessdata = None
    if settings.tessdata:
        tessdata = find_tessdata(settings.lang, settings.tessdata)
    return _PytesseractEngine(settings, tessdata)


# ------------------------------------------------------------------ reader
class LineReader:
    """Reads link lines from frames; keeps its Tesseract engine loaded.

    One reader per thread (see the module docstring). Use as a context
    manager, or call ``close()``, to free the engine.
    """

    def __init__(self, settings: ReaderSettings | None = None) -> None:
        self.settings = settings or ReaderSettings()
        self._lock = threading.Lock()
        # Line images sent to Tesseract so far (fallback re-reads included):
        # the pipeline reports it as ocr_calls.
        self.images_read = 0
        self._engine: _Engine | None = _open_engine(self.settings)
        log.debug("OCR engine: %s", self._engine.name)

    @property
    def engine(self) -> str:
        return self._engine.name if self._engine else "closed"

    @property
    def workers(self) -> int:
        """Tesseract instances reading in parallel (the program engine: 1)."""
        return self._engine.workers if self._engine else 0

    def rectify(self, frame: np.ndarray, quad: np.ndarray, binarize: Binarize | None = None,
                line_height: int | None = None) -> np.ndarray:
        s = self.settings
        return rectify(frame, quad, pad=s.pad, line_height=line_height or s.line_height,
                       binarize=binarize or s.binarize, margin=s.margin)

    def read_images(self, images: list[np.ndarray]) -> list[LineReading]:
        """Read already rectified line images (dark text on light)."""
        with self._lock:
            if self._engine is None:
                raise OcrError("this LineReader has been closed")
            self.images_read += len(images)
            return self._engine.read(images)

    def read_lines(self, frame: np.ndarray, quads: list[np.ndarray], retry: bool = True,
                   fit: FitSettings | None = None) -> list[LineReading]:
        """Read each quad of ``frame`` as one line of text, in the given order.

        With ``retry``, lines whose text is not a URL on its own get a second
        look (``retry_lines``). A piece of a wrapped link is never a URL on
        its own: callers that can join pieces first (the pipeline's photo
        mode) pass ``retry=False`` and retry only the lines left alone.
        ``fit``: how each quad is fitted to its printed line (None: the
        defaults; unused when ``settings.fit_lines`` is off).
        """
        if not quads:
            return []
        [got] = self._read_cutouts(frame, quads, range(len(quads)), [(None, None)], fit)
        readings = [got.get(i, LineReading("", 0.0)) for i in range(len(quads))]
        if not retry:
            return readings
        return self.retry_lines(frame, quads, readings, [i for i in got if normalize_url(got[i].text) is None], fit)

    def retry_lines(self, frame: np.ndarray, quads: list[np.ndarray], readings: list[LineReading],
                    which: list[int], fit: FitSettings | None = None) -> list[LineReading]:
        """Read the lines ``which`` again, cut out with ``settings.fallback``;
        a new reading replaces the old one only when it is a URL. Returns a
        new list (the same readings when there is no fallback)."""
        fb = self.settings.fallback
        out = list(readings)
        if fb is None or fb == self.settings.binarize or not which:
            return out
        for i, r in self._read_cutouts(frame, quads, which, [(None, fb)], fit)[0].items():
            if normalize_url(r.text) is not None:
                out[i] = r
        return out

    def read_lines_at(self, frame: np.ndarray, quads: list[np.ndarray], looks: Sequence[Look],
                      fit: FitSettings | None = None) -> list[list[LineReading]]:
        """Each quad read once per look (the photo mode's extra looks: a line
        height, None for the settings', and a binarisation, None for the
        settings'), all in one read so that parallel instances share the
        work: ``result[k][i]`` is quad i cut out as ``looks[k]`` says."""
        if not quads or not looks:
            return [[] for _ in looks]
        got = self._read_cutouts(frame, quads, range(len(quads)), looks, fit)
        return [[g.get(i, LineReading("", 0.0)) for i in range(len(quads))] for g in got]

    def _read_cutouts(self, frame: np.ndarray, quads: list[np.ndarray], which: Iterable[int],
                      looks: Sequence[Look], fit: FitSettings | None = None) -> list[dict[int, LineReading]]:
        """Readings of the lines ``which``, one dict per look, all in one
        read; a degenerate quad (zero width or height: a detector speck) is
        left out instead of failing the whole frame's read."""
        gray = to_gray(frame)  # once per frame, not once per line
        fitted = {i: fit_line(gray, quads[i], fit) if self.settings.fit_lines else quads[i] for i in which}
        images: list[np.ndarray] = []
        keys: list[tuple[int, int]] = []
        for k, (height, binarize) in enumerate(looks):
            for i, quad in fitted.items():
                try:
                    images.append(self.rectify(gray, quad, binarize=binarize, line_height=height))
                    keys.append((k, i))
                except ValueError as e:
                    log.debug("skipping line %d: %s", i, e)
        out: list[dict[int, LineReading]] = [{} for _ in looks]
        for (k, i), r in zip(keys, self.read_images(images)):
            out[k][i] = r
        return out

    def ocr_page(self, frame: np.ndarray) -> str:
        """Whole-frame Tesseract with automatic page segmentation (the
        benchmark's baseline: seconds per page, against ms per link line)."""
        gray = np.ascontiguousarray(to_gray(frame))
        with self._lock:
            if self._engine is None:
                raise OcrError("this LineReader has been closed")
            return self._engine.read_page(gray)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def __enter__(self) -> "LineReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
