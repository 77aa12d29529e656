"""The ``links-detector`` command: detect, bench, app.

Library code logs and raises; only this module prints. A user error (a
missing model, an unreadable file, no Tesseract, no camera) is one line on
stderr, ``links-detector: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from edge_app.errors import LinksDetectorError
from edge_app.quiet import native_stderr_silenced

PROG = "links-detector"
log = logging.getLogger(__name__)


# ------------------------------------------------------------------ output
def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (tests swap it per call)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    pkg = logging.getLogger("edge_app")
    if not any(isinstance(h, _StderrHandler) for h in pkg.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
        pkg.addHandler(handler)
    pkg.setLevel(level)


# --------------------------------------------------------------- arguments
T = TypeVar("T")


def _checked(kind: Callable[[str], T], what: str, ok: Callable[[T], bool], rule: str) -> Callable[[str], T]:
    """An argparse ``type`` that parses with ``kind`` and checks ``ok``."""

    def parse(text: str) -> T:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}: {value}")
        return value

    return parse


_positive_int = _checked(int, "a whole number", lambda v: v >= 1, "at least 1")
_non_negative_int = _checked(int, "a whole number", lambda v: v >= 0, "0 or more")
_seconds = _checked(float, "a number of seconds", lambda v: v > 0, "more than 0")


def build_parser() -> argparse.ArgumentParser:
    from edge_app.formats import FORMATS

    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("engine")
    g.add_argument("--model", type=Path, metavar="FILE",
                   help="the .tflite model (its .json sidecar next to it); default models/links_detector.tflite")
    g.add_argument("--no-check", action="store_true",
                   help="the detector's map alone; by default a second model (models/line_check.tflite, "
                        "next to the detector) looks again at each candidate line")
    g.add_argument("--threads", type=_positive_int, metavar="N",
                   help="threads for the detector, and Tesseract instances reading a frame's lines "
                        "in parallel (default 2)")
    g.add_argument("--long-side", type=_positive_int, metavar="PX",
                   help="model input long side in pixels (default: the model's sidecar; video then keeps it "
                        "whatever the print's size, photos still add their larger sizes)")
    g.add_argument("--engine", choices=("auto", "tesserocr", "pytesseract"), default="auto",
                   help="how Tesseract is run: the loaded library (tesserocr, fast) or the program "
                        "(pytesseract); auto prefers tesserocr")
    g.add_argument("--tesseract-cmd", metavar="PROGRAM", help="the tesseract program for --engine pytesseract")
    g.add_argument("--tessdata", metavar="DIR", help="the directory holding eng.traineddata (default: found)")
    g.add_argument("-v", "--verbose", action="count", default=0, help="log what happens (-vv: more)")

    parser = argparse.ArgumentParser(
        prog=PROG, description="Find the printed links in photos, videos and camera frames, on this device.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("detect", parents=[common], help="find the links in photos, folders and videos",
                       description="Find the links in photos, folders (walked in sorted order) and videos. "
                                   "Without PATH: the bundled sample photos.")
    d.add_argument("paths", nargs="*", metavar="PATH", help="image, folder or video file")
    fmt = d.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per input per line (same as --format json)")
    fmt.add_argument("--format", choices=FORMATS, help="output format (default text)")
    d.add_argument("--annotate", type=Path, metavar="DIR", help="write pictures with the links drawn into DIR (DIR/<name>.links.jpg)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar (shown only on a terminal anyway)")
    d.set_defaults(handler=_cmd_detect)

    b = sub.add_parser("bench", parents=[common], help="measure the live pipeline and the whole-page baseline",
                       description="Run the live pipeline on a clip and report per-stage times, FPS and memory; "
                                   "then Tesseract on whole frames plus a URL regex on some of the same frames.")
    b.add_argument("--source", default="demo", metavar="FILE|demo", help="video file, or demo (the bundled clip)")
    b.add_argument("--frames", type=_positive_int, metavar="N", help="at most N frames (default: all)")
    b.add_argument("--baseline-frames", type=_non_negative_int, default=4, metavar="N",
                   help="frames for the whole-page baseline (default 4)")
    b.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    b.add_argument("--urls", type=Path, metavar="FILE",
                   help="the URLs printed in the clip, one per line, for recall (known for the bundled clip)")
    b.add_argument("--json", action="store_true", help="one JSON object")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(handler=_cmd_bench)

    a = sub.add_parser("app", parents=[common], help="the live window: camera or video, click a link to open it")
    a.add_argument("--source", metavar="SPEC",
                   help="camera index (0), picamera, demo, a video, image or folder, or a stream URL")
    a.add_argument("--screenshot", type=Path, metavar="FILE", help="save a picture of the window, then quit")
    a.add_argument("--quit-after", type=_seconds, metavar="S", help="close the window after S seconds")
    a.set_defaults(handler=_cmd_app)
    return parser


# ---------------------------------------------------------------- settings
def _pipeline_settings(args: argparse.Namespace):
    from edge_app.detector import DetectorSettings
    from edge_app.pipeline import PipelineSettings
    from edge_app.reader import ReaderSettings
    from edge_app.tracking import TrackerSettings

    detector = DetectorSettings(model_path=args.model, threads=args.threads or DetectorSettings().threads,
                                long_side=args.long_side, use_check=not args.no_check)
    reader = ReaderSettings(engine=args.engine, tesseract_cmd=args.tesseract_cmd, tessdata=args.tessdata,
                            workers=args.threads or ReaderSettings().workers)
    return PipelineSettings(detector=detector, reader=reader, tracker=TrackerSettings(), track=True)


def _open_pipeline(args: argparse.Namespace):
    from edge_app.pipeline import Pipeline

    with native_stderr_silenced(args.verbose == 0):
        return Pipeline(_pipeline_settings(args))


# ------------------------------------------------------------------ detect
@dataclass(frozen=True)
class _Input:
    label: str  # the path as the user wrote it (or as the folder walk made it)
    path: Path | None
    video: bool = False
    error: str | None = None


def _short(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _inputs(paths: list[str]) -> list[_Input]:
    """Expand PATHs (folders walked in sorted order) into inputs, keeping
    the ones that cannot be used as errors in their place."""
    from edge_app.sources import VIDEO_EXTS, iter_inputs, sample_photos

    if not paths:
        samples = sample_photos()
        if not samples:
            raise LinksDetectorError("no PATH given and the bundled sample photos are missing "
                                     "(edge_app/samples/page*.jpg): reinstall the package")
        paths = [_short(p) for p in samples]
    out: list[_Input] = []
    for item in iter_inputs(paths):
        if isinstance(item, Exception):
            label = str(getattr(item, "path", "") or "")
            out.append(_Input(label or "?", None, error=str(item)))
        else:
            p = Path(item)
            out.append(_Input(str(p), p, video=p.suffix.lower() in VIDEO_EXTS))
    return out


class _Annotator:
    """Writes DIR/<name>.links.jpg for each input, without overwriting a
    picture written in the same run."""

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LinksDetectorError(f"cannot create the --annotate folder {folder}: {e.strerror}") from e
        self.folder = folder
        self._used: set[str] = set()

    def write(self, source: Path, image, links, detections=()) -> Path:
        import cv2

        from edge_app.annotate import draw_links

        stem, n = source.stem, 1
        name = f"{stem}.links.jpg"
        while name in self._used:
            n += 1
            name = f"{stem}-{n}.links.jpg"
        self._used.add(name)
        out = self.folder / name
        if not cv2.imwrite(str(out), draw_links(image, links, detections=detections)):
            raise LinksDetectorError(f"cannot write {out}")
        return out


def _cmd_detect(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from edge_app.batch import PhotoReport, VideoReport, detect_photo, detect_video
    from edge_app.formats import Summary, formatter

    name = "json" if args.json else (args.format or "text")
    fmt = formatter(name)
    inputs = _inputs(args.paths)
    if not args.paths and name == "text":
        print(f"{PROG}: no PATH given: reading the bundled sample photos", file=sys.stderr)
    annotator = _Annotator(args.annotate) if args.annotate else None
    summary = Summary()
    failed_writes = 0

    def emit(lines: list[str]) -> None:
        for line in lines:
            tqdm.write(line, file=sys.stdout)
        sys.stdout.flush()

    pipeline = _open_pipeline(args)
    with pipeline:
        emit(fmt.header())
        bar_off = True if args.no_progress else None  # None: only on a terminal
        with tqdm(total=len(inputs), unit="input", file=sys.stderr, leave=False,
                  disable=bar_off if len(inputs) > 1 else True) as bar:
            for item in inputs:
                snapshot = None
                if item.path is None:
                    report: PhotoReport | VideoReport = PhotoReport(item.label, error=item.error)
                elif item.video:
                    with tqdm(unit="frame", desc=item.path.name, file=sys.stderr, leave=False,
                              disable=bar_off) as frames_bar:
                        report, snapshot = detect_video(pipeline, item.path, item.label,
                                                        on_frame=lambda _: frames_bar.update(1))
                else:
                    report, image = detect_photo(pipeline, item.path, item.label)
                    if image is not None and report.result is not None:
                        snapshot = (image, report.result.links, [d.quad for d in report.result.detections])
                if snapshot is not None and annotator is not None:
                    try:
                        annotator.write(item.path, *snapshot)
                    except LinksDetectorError as e:
                        _warn(str(e))
                        failed_writes += 1
                summary.add(report)
                if report.error and name != "text":
                    _warn(f"{item.label}: {report.error}")
                emit(fmt.render(report))
                bar.update(1)
        emit(fmt.footer(summary))
    return 1 if summary.failed or failed_writes else 0


# ------------------------------------------------------------------- bench
def _read_urls(path: Path) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise LinksDetectorError(f"cannot read the URL list {path}: {e}") from e
    urls = tuple(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#"))
    if not urls:
        raise LinksDetectorError(f"the URL list {path} is empty: write one URL per line")
    return urls


def _cmd_bench(args: argparse.Namespace) -> int:
    from edge_app.bench import BenchSettings, format_bench, run_bench

    settings = BenchSettings(
        pipeline=_pipeline_settings(args), source=args.source, frames=args.frames,
        baseline_frames=0 if args.no_baseline else args.baseline_frames,
        known_urls=_read_urls(args.urls) if args.urls else None,
        progress=False if args.no_progress else None, quiet=args.verbose == 0)
    with _open_pipeline(args) as pipeline:
        report = run_bench(settings, pipeline)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(format_bench(report))
    return 0


# --------------------------------------------------------------------- app
def _cmd_app(args: argparse.Namespace) -> int:
    try:
        from edge_app.app import AppOptions, run_app
    except ImportError as e:
        _error(f"the window cannot start: {e}. Install PyQt6 (pip install PyQt6) and Qt's system libraries "
               "(scripts/setup-system.sh); `links-detector detect` works without them")
        return 1
    from edge_app.detector import DetectorSettings

    options = AppOptions(source=args.source, model=args.model, threads=args.threads or DetectorSettings().threads,
                         screenshot=args.screenshot, quit_after=args.quit_after, engine=args.engine,
                         use_check=not args.no_check)
    return int(run_app(options) or 0)


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else 2
    _setup_logging(args.verbose)
    try:
        return args.handler(args)
    except LinksDetectorError as e:
        _error(str(e))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader of our output went away (| head): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
