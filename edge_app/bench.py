"""How fast the live pipeline runs on this machine, and what it beats.

One run measures, on a clip (the bundled one by default):

* the live pipeline (tracking on, as in the app): per-stage p50/p90 ms,
  frames per second once the links are read (the steady state the user
  sees: frames after the first reading that needed no OCR), overall FPS,
  peak RSS, the hardware and the model;
* the baseline the original article rejected, on a subset of the SAME
  frames: Tesseract on the whole frame plus a URL regex
  (``LineReader.ocr_page`` + ``urls.find_urls``): its ms per frame, the
  speed ratio, and the recall of both against the clip's known URLs.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edge_app.errors import SourceError
from edge_app.pipeline import Pipeline, PipelineSettings
from edge_app.quiet import native_stderr_silenced
from edge_app.reader import LineReader, ReaderSettings
from edge_app.sources import demo_clip_path, open_source
from edge_app.urls import find_urls, normalize_url

log = logging.getLogger(__name__)

STAGES = ("preprocess", "detect", "decode", "check", "track", "ocr", "total")
TRUTH_FILE = "truth.json"


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class BenchSettings:
    pipeline: PipelineSettings
    source: str = "demo"
    frames: int | None = None  # at most this many frames; None: the whole clip
    baseline_frames: int = 4  # 0: no baseline
    known_urls: tuple[str, ...] | None = None  # None: the bundled clip's truth when the source is that clip
    progress: bool | None = None  # tqdm's rule: None = only on a terminal
    quiet: bool = False  # silence Leptonica's native messages during the whole-page baseline


# ------------------------------------------------------------------- results
@dataclass
class StageStats:
    p50: float
    p90: float
    mean: float


@dataclass
class Baseline:
    frames: list[int]
    ms_per_frame: float  # whole-frame Tesseract + regex, mean
    ours_ms_per_frame: float  # live pipeline, mean over ALL its frames (reads included)
    speed_ratio: float  # baseline / ours
    speed_ratio_steady: float | None  # baseline / ours once links are read
    engine: str
    known_urls: int | None = None
    recall: float | None = None  # mean over the subset frames of found-and-known / known
    ours_recall: float | None = None
    recall_union: float | None = None  # known URLs found on any frame of the subset
    ours_recall_union: float | None = None
    other_urls: int | None = None  # distinct URLs found that are not in the known list
    ours_other_urls: int | None = None


@dataclass
class BenchReport:
    source: str
    source_path: str
    frames: int
    width: int
    height: int
    hardware: dict
    model: dict
    ocr_engine: str
    stages_ms: dict[str, StageStats]
    fps: dict[str, float | None]  # live (steady), overall (pipeline only), wall (with frame decoding)
    steady_frames: int
    first_read_frame: int | None
    ocr_calls: int
    peak_rss_mb: float
    read_ms: StageStats | None = None  # decoding a frame from the source
    baseline: Baseline | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        d = asdict(self)
        return json.loads(json.dumps(d, default=float))  # plain floats, no numpy scalars


# ------------------------------------------------------------------ hardware
def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo; a Pi reports its board)."""
    try:
        info = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        info = ""
    fields: dict[str, str] = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    for key in ("model name", "model", "hardware", "cpu model", "processor"):
        value = fields.get(key, "")
        if value and not value.isdigit():
            return value
    return platform.processor() or platform.machine() or "unknown"


def hardware_info(threads: int, ocr_workers: int = 1) -> dict:
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except ImportError:  # psutil is a dependency; a bare Pi image may lack it
        physical = None
    return {"cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
            "physical_cores": physical, "threads": threads, "ocr_workers": ocr_workers,
            "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def peak_rss_mb() -> float:
    """The process's peak resident memory so far."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Linux reports KiB, macOS bytes.
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    except ImportError:  # Windows
        import psutil

        mem = psutil.Process().memory_info()
        return getattr(mem, "peak_wset", mem.rss) / (1024 * 1024)


# --------------------------------------------------------------------- truth
def clip_truth(source: str) -> tuple[str, ...] | None:
    """The known URLs of the bundled clip when ``source`` is that clip."""
    demo = demo_clip_path()
    if source != "demo":
        try:
            if Path(source).resolve() != demo.resolve():
                return None
        except OSError:
            return None
    truth_file = demo.parent / TRUTH_FILE
    try:
        clip = json.loads(truth_file.read_text())["clip"]
    except (OSError, ValueError, KeyError):
        log.warning("no known URLs for the bundled clip in %s", truth_file)
        return None
    return tuple(clip["urls"])


def _norm_set(urls: Iterable[str]) -> set[str]:
    return {n for n in (normalize_url(u) for u in urls) if n}


# ---------------------------------------------------------------- sampling
class _Sampler:
    """Keeps an evenly spread subset of a stream of unknown length in bounded
    memory: every ``stride``-th frame, doubling the stride when full."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.stride = 1
        self.kept: list[tuple[int, np.ndarray]] = []

    def offer(self, i: int, image: np.ndarray) -> None:
        if self.want <= 0 or i % self.stride:
            return
        self.kept.append((i, image))
        if len(self.kept) > 2 * self.want:
            self.stride *= 2
            self.kept = [(j, im) for j, im in self.kept if j % self.stride == 0]

    def pick(self) -> list[tuple[int, np.ndarray]]:
        if len(self.kept) <= self.want:
            return self.kept
        idx = np.linspace(0, len(self.kept) - 1, self.want).round().astype(int)
        return [self.kept[i] for i in sorted(set(idx.tolist()))]


def tqdm_disable(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows the bar only when stderr is a terminal."""
    return None if progress is None else not progress


def _stats(values: list[float]) -> StageStats:
    a = np.asarray(values, dtype=np.float64)
    return StageStats(round(float(np.percentile(a, 50)), 3), round(float(np.percentile(a, 90)), 3),
                      round(float(a.mean()), 3))


# ---------------------------------------------------------------------- run
@dataclass
class _FrameStat:
    index: int
    timings: dict[str, float]
    read_ms: float
    ocr_calls: int
    urls: set[str]


def run_bench(settings: BenchSettings, pipeline: Pipeline | None = None) -> BenchReport:
    """Run the live pipeline, then the baseline, on one source.

    ``pipeline``: an open pipeline made from ``settings.pipeline`` (the
    caller keeps ownership); None: one is made and closed here.
    """
    if pipeline is not None:
        return _run(settings, pipeline)
    with Pipeline(settings.pipeline) as own:
        return _run(settings, own)


def _run(settings: BenchSettings, pipe: Pipeline) -> BenchReport:
    from tqdm import tqdm

    stats: list[_FrameStat] = []
    sampler = _Sampler(settings.baseline_frames)
    width = height = 0
    wall0 = time.perf_counter()
    pipe.reset()
    with open_source(settings.source) as src:
        source_path = src.name
        total = settings.frames
        with tqdm(total=total, desc="bench", unit="frame", file=sys.stderr, leave=False,
                  disable=tqdm_disable(settings.progress)) as bar:
            while settings.frames is None or len(stats) < settings.frames:
                t0 = time.perf_counter()
                frame = src.read()
                t1 = time.perf_counter()
                if frame is None:
                    break
                calls = pipe.ocr_calls
                result = pipe.process(frame.image)
                height, width = frame.image.shape[:2]
                stats.append(_FrameStat(len(stats), dict(result.timings_ms), (t1 - t0) * 1e3,
                                        pipe.ocr_calls - calls, {link.url for link in result.links}))
                sampler.offer(len(stats) - 1, frame.image)
                bar.update(1)
    wall_s = time.perf_counter() - wall0
    peak = peak_rss_mb()  # before the baseline's whole-page OCR adds its own
    if not stats:
        raise SourceError(f"{settings.source}: no frames could be read (empty or unreadable video?)")
    engine = pipe.reader.engine
    det = pipe.detector
    model = {"file": str(det.model_path), "size_bytes": det.size_bytes,
             "long_side": pipe.video_long_side((height, width)), "info": det.spec.info}
    if det.checker is not None:
        model["check"] = {"file": str(det.checker.model_path), "size_bytes": det.checker.model_path.stat().st_size}

    stages = {k: _stats([s.timings[k] for s in stats if k in s.timings]) for k in STAGES
              if any(k in s.timings for s in stats)}
    totals = [s.timings.get("total", 0.0) for s in stats]
    first_read = next((s.index for s in stats if s.ocr_calls > 0), None)
    steady = [s for s in stats if first_read is not None and s.index > first_read and s.ocr_calls == 0]
    steady_ms = statistics.fmean(s.timings.get("total", 0.0) for s in steady) if steady else None
    fps = {"live": round(1000.0 / steady_ms, 2) if steady_ms else None,
           "overall": round(1000.0 * len(stats) / sum(totals), 2) if sum(totals) > 0 else None,
           "wall": round(len(stats) / wall_s, 2) if wall_s > 0 else None}
    notes = []
    if not steady:
        notes.append("no steady-state frames: no link was read, or every frame needed OCR")
    report = BenchReport(
        source=settings.source, source_path=str(source_path), frames=len(stats), width=width, height=height,
        hardware=hardware_info(det.settings.threads, pipe.reader.workers), model=model, ocr_engine=engine,
        stages_ms=stages, fps=fps, steady_frames=len(steady), first_read_frame=first_read,
        ocr_calls=sum(s.ocr_calls for s in stats), peak_rss_mb=round(peak, 1),
        read_ms=_stats([s.read_ms for s in stats]), notes=notes)

    subset = sampler.pick()
    if subset:
        known = settings.known_urls if settings.known_urls is not None else clip_truth(settings.source)
        report.baseline = _baseline(subset, stats, known, engine, pipe.reader.settings, steady_ms,
                                    settings.progress, settings.quiet)
    return report


def _baseline(subset: list[tuple[int, np.ndarray]], stats: list[_FrameStat], known: tuple[str, ...] | None,
              engine: str, reader_settings: ReaderSettings, steady_ms: float | None,
              progress: bool | None, quiet: bool = False) -> Baseline:
    from tqdm import tqdm

    # Plain Tesseract as the article used it: no character whitelist, its own
    # inverted retry on, the same engine and language data as the live
    # reader; one instance (page mode reads one image, which one instance
    # cannot split over threads).
    settings = ReaderSettings(engine=engine, whitelist=None, lang=reader_settings.lang, workers=1,
                              tesseract_invert=True,
                              tessdata=reader_settings.tessdata, tesseract_cmd=reader_settings.tesseract_cmd)
    times: list[float] = []
    found: list[set[str]] = []
    with LineReader(settings) as reader:
        for _, image in tqdm(subset, desc="baseline", unit="frame", file=sys.stderr, leave=False,
                             disable=tqdm_disable(progress)):
            t0 = time.perf_counter()
            with native_stderr_silenced(quiet):
                text = reader.ocr_page(image)
            urls = find_urls(text)
            times.append((time.perf_counter() - t0) * 1e3)
            found.append(_norm_set(urls))
    ours_ms = statistics.fmean(s.timings.get("total", 0.0) for s in stats)
    base_ms = statistics.fmean(times)
    b = Baseline(frames=[i for i, _ in subset], ms_per_frame=round(base_ms, 2), ours_ms_per_frame=round(ours_ms, 2),
                 speed_ratio=round(base_ms / ours_ms, 2) if ours_ms > 0 else float("inf"),
                 speed_ratio_steady=round(base_ms / steady_ms, 2) if steady_ms else None, engine=engine)
    if known:
        truth = _norm_set(known)
        ours = [_norm_set(stats[i].urls) for i, _ in subset]
        b.known_urls = len(truth)
        b.recall = round(statistics.fmean(len(f & truth) / len(truth) for f in found), 4)
        b.ours_recall = round(statistics.fmean(len(f & truth) / len(truth) for f in ours), 4)
        b.recall_union = round(len(set().union(*found) & truth) / len(truth), 4)
        b.ours_recall_union = round(len(set().union(*ours) & truth) / len(truth), 4)
        b.other_urls = len(set().union(*found) - truth)
        b.ours_other_urls = len(set().union(*ours) - truth)
    return b


# ------------------------------------------------------------------ output
def _f(v: float | None, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def format_bench(r: BenchReport) -> str:
    hw = r.hardware
    lines = [
        f"source   {r.source_path}: {r.frames} frames, {r.width}x{r.height}",
        f"cpu      {hw['cpu']} ({hw['machine']}), {hw['cores']} cores; detector threads {hw['threads']}; "
        f"OCR {r.ocr_engine} x{hw.get('ocr_workers', 1)}",
        f"model    {r.model['file']} ({r.model['size_bytes'] / 1024:.0f} KiB), input long side "
        f"{r.model['long_side']}"
        + (f"; line check {r.model['check']['file']} ({r.model['check']['size_bytes'] / 1024:.0f} KiB)"
           if "check" in r.model else ""),
        "",
        f"{'stage':<11}{'p50 ms':>9}{'p90 ms':>9}{'mean ms':>9}",
    ]
    for name, s in r.stages_ms.items():
        lines.append(f"{name:<11}{s.p50:>9.2f}{s.p90:>9.2f}{s.mean:>9.2f}")
    if r.read_ms:
        lines.append(f"{'(read)':<11}{r.read_ms.p50:>9.2f}{r.read_ms.p90:>9.2f}{r.read_ms.mean:>9.2f}"
                     "   decoding the frame, not in total")
    lines += [
        "",
        f"live FPS {_f(r.fps['live'])} once links are read ({r.steady_frames} frames without OCR after the "
        f"first read at frame {r.first_read_frame}); overall {_f(r.fps['overall'])} (pipeline), "
        f"{_f(r.fps['wall'])} (with frame decoding)",
        f"OCR      {r.ocr_calls} line images read in {r.frames} frames",
        f"peak RSS {r.peak_rss_mb:.0f} MB",
    ]
    b = r.baseline
    if b:
        lines += ["", f"baseline whole-frame Tesseract ({b.engine}) + URL regex, on {len(b.frames)} of the same frames "
                      f"{b.frames}:",
                  f"  ms/frame  baseline {b.ms_per_frame:.0f}, live pipeline {b.ours_ms_per_frame:.1f} "
                  f"-> {b.speed_ratio:.1f}x faster"
                  + (f" ({b.speed_ratio_steady:.0f}x once links are read)" if b.speed_ratio_steady else "")]
        if b.known_urls:
            lines.append(f"  recall    baseline {b.recall:.2f}, live pipeline {b.ours_recall:.2f} per frame "
                         f"({b.known_urls} known URLs; any frame: {b.recall_union:.2f} vs {b.ours_recall_union:.2f});"
                         f" other URLs found: {b.other_urls} vs {b.ours_other_urls}")
        else:
            lines.append("  recall    - (no known URLs for this source)")
    lines += [f"note     {n}" for n in r.notes]
    return "\n".join(lines)
