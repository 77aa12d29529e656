"""Held-out clips for the live pipeline: make them, then measure what a user
of the window or of ``detect`` on a video gets.

    python -m training.clip_eval make --out data/clips --count 10 --seed 5000
    python -m training.clip_eval make --out data/clips_blur --count 20 --seed 6000 --motion-blur
    python -m training.clip_eval make-real --out data/clips_real --count 16 --seed 7000
    python -m training.clip_eval run data/clips data/clips_blur data/clips_real [--model M] [--json]

Each clip is a slow hand-held pan over one page, as the bundled demo clip
(``training.samples.make_clip``), from other seeds than the samples. A clip
draws its page from its seed's random numbers in another order, at another
size and link rate than a training frame of the same seed (training frames
use seeds 0-5999), so no clip shows a page the detector trained on; the
pages still come from our own generator. ``--motion-blur`` blurs every
frame along a random direction as a shaking hand does. ``make-real`` films
pages of the real documents (``training.realdocs``: its PDFs, its camera,
1280x720 frames as a laptop's webcam gives) with the same pan: the live
pipeline on pages the generator did not make. Per clip set ``run``
reports:

- line reads: images sent to Tesseract (the cost the tracker is there to cut);
- recall per frame: of the links fully in view all through the clip, the
  share shown with their exact URL, averaged over frames (what the window
  shows as the clip plays);
- exact: of those links, the share whose URL ``detect`` lists for the video,
  and "other": URLs it lists that are none of them (misreadings, or links
  only partly in view).
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

if TYPE_CHECKING:
    from edge_app.pipeline import Pipeline

TRUTH = "clips.json"


@dataclass
class ClipResult:
    name: str
    frames: int
    urls: list[str]
    line_reads: int
    recall_per_frame: float
    exact: int
    other: list[str] = field(default_factory=list)


@dataclass
class SetResult:
    folder: str
    clips: int = 0
    frames: int = 0
    links: int = 0
    line_reads: int = 0
    recall_per_frame: float = 0.0  # mean over all frames of all clips
    exact: int = 0
    other: int = 0
    ms_per_frame: float = 0.0  # median of the pipeline's own total per frame (decoding the video left out)
    per_clip: list[ClipResult] = field(default_factory=list)


def make_clips(out: Path, count: int, seed: int, motion_blur: bool = False, frames: int = 40,
               fps: int = 15, size: tuple[int, int] = (640, 480)) -> list[dict]:
    from training.samples import PHOTO_CONFIG, make_clip
    from training.synth import Synthesizer

    camera = PHOTO_CONFIG.camera
    if motion_blur:
        camera = replace(camera, motion_blur_p=1.0)
    synth = Synthesizer(replace(PHOTO_CONFIG, out_size=size, camera=camera))
    out.mkdir(parents=True, exist_ok=True)
    clips: list[dict] = []
    s = seed
    with tqdm(total=count, desc=f"clips -> {out}") as bar:
        while len(clips) < count:
            name = f"clip{len(clips):02d}.mp4"
            urls = make_clip(synth, s, frames=frames, fps=fps, path=out / name, size=size)
            s += 1
            if not urls:  # a pan that keeps no link whole in view measures nothing
                continue
            clips.append({"file": name, "seed": s - 1, "frames": frames, "fps": fps, "urls": urls,
                          "motion_blur": motion_blur, "size": list(size)})
            bar.update()
    (out / TRUTH).write_text(json.dumps(clips, indent=1) + "\n")
    return clips


def make_real_clips(out: Path, count: int, seed: int, src: Path, frames: int = 40, fps: int = 15,
                    size: tuple[int, int] = (1280, 720), camera: str = "near", packages: str = "validation") -> list[dict]:
    """Clips of real documents: the real-documents set's PDF pages (its
    packages, its plan of one aimed-at link per view, wrapped ones more
    often) filmed by its camera in a slow pan (``training.realdocs.film_page``):
    neither the pages nor the camera are the generator's. ``camera``: one of
    ``training.realdocs.CAMERAS`` (its print size; the frame size is ``size``).
    ``packages``: a key of ``training.realdocs.PACKAGE_SETS`` ("tune": clips
    to choose on, of documents the held-out clips do not show)."""
    import pymupdf

    from training.realdocs import (CAMERAS, PACKAGE_SETS, BuildConfig, fetch_packages, film_page, links_on_page,
                                   plan_views, scan_pages)

    sources = fetch_packages(src, PACKAGE_SETS[packages])
    by_pkg, _ = scan_pages(sources, BuildConfig(), progress=True)
    rng = np.random.default_rng(seed)
    plan = plan_views(by_pkg, BuildConfig(images=max(count * 4, len(by_pkg)), seed=seed), rng)
    order = rng.permutation(len(plan))  # plan_views lists package by package
    out.mkdir(parents=True, exist_ok=True)
    clips: list[dict] = []
    docs: dict[Path, object] = {}
    with tqdm(total=count, desc=f"real clips -> {out}") as bar:
        for k in order:
            if len(clips) >= count:
                break
            doc_src, pi, target = plan[int(k)]
            page = docs.setdefault(doc_src.path, pymupdf.open(doc_src.path))[pi]  # type: ignore[index]
            links = links_on_page(by_pkg, doc_src, pi)
            name = f"clip{len(clips):02d}.mp4"
            try:
                urls = film_page(rng, page, links, target, size, out / name, frames, fps, CAMERAS[camera])
            except ValueError:  # the view does not see the page
                urls = []
            if not urls:
                (out / name).unlink(missing_ok=True)
                continue
            clips.append({"file": name, "seed": seed, "doc": doc_src.path.name, "page": pi + 1, "frames": frames,
                          "fps": fps, "urls": urls, "size": list(size)})
            bar.update()
    (out / TRUTH).write_text(json.dumps(clips, indent=1) + "\n")
    return clips


def run_clips(folder: Path, pipeline: Pipeline, progress: bool = True) -> SetResult:
    """The live pipeline (tracking, as the window runs it) over each clip."""
    from edge_app.batch import VideoLinkCollector
    from edge_app.sources import open_source
    from edge_app.urls import normalize_url

    try:
        clips = json.loads((folder / TRUTH).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"{folder}: no clip list ({e}); make one with: python -m training.clip_eval make --out {folder}")
    res = SetResult(str(folder))
    recalls: list[float] = []
    totals: list[float] = []
    for clip in tqdm(clips, desc=f"run {folder.name}", disable=not progress):
        truth = {normalize_url(u) for u in clip["urls"]} - {None}
        pipeline.reset()
        before = pipeline.ocr_calls
        collector = VideoLinkCollector()
        n = 0
        with open_source(str(folder / clip["file"])) as source:
            while (frame := source.read()) is not None:
                result = pipeline.process(frame.image)
                links = result.links
                totals.append(result.timings_ms["total"])
                collector.add(frame.index, links)
                shown = {link.url for link in links}
                recalls.append(len(shown & truth) / len(truth))
                n += 1
        listed = {v.url for v in collector.links()}
        r = ClipResult(clip["file"], n, sorted(truth), pipeline.ocr_calls - before,
                       round(statistics.fmean(recalls[-n:]) if n else 0.0, 4), len(listed & truth),
                       sorted(listed - truth))
        res.per_clip.append(r)
        res.clips += 1
        res.frames += n
        res.links += len(truth)
        res.line_reads += r.line_reads
        res.exact += r.exact
        res.other += len(r.other)
    res.recall_per_frame = round(statistics.fmean(recalls), 4) if recalls else 0.0
    res.ms_per_frame = round(statistics.median(totals), 1) if totals else 0.0
    return res


def main(argv: list[str] | None = None) -> None:
    from training.realdocs import CAMERAS, PACKAGE_SETS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make", help="write held-out clips and their known links")
    mk.add_argument("--out", type=Path, required=True)
    mk.add_argument("--count", type=int, default=10)
    mk.add_argument("--seed", type=int, default=5000)
    mk.add_argument("--motion-blur", action="store_true")
    mk.add_argument("--size", default="640x480", help="frame WxH (the page scales with the width)")
    mr = sub.add_parser("make-real", help="write clips of real documents (the real-documents set's PDFs and camera)")
    mr.add_argument("--out", type=Path, required=True)
    mr.add_argument("--count", type=int, default=16)
    mr.add_argument("--seed", type=int, default=7000)
    mr.add_argument("--src", type=Path, default=Path("data/realdocs_src"), help="the real-documents download cache")
    mr.add_argument("--size", default="1280x720", help="frame WxH")
    mr.add_argument("--camera", choices=sorted(CAMERAS), default="near",
                    help="near: one link close up (default); far: most of the page in view (training.realdocs.CAMERAS)")
    mr.add_argument("--packages", choices=sorted(PACKAGE_SETS), default="validation",
                    help="validation: the held-out documents' packages (default); tune: other packages, to choose on")
    rn = sub.add_parser("run", help="the live pipeline over clip folders")
    rn.add_argument("folders", type=Path, nargs="+")
    rn.add_argument("--model", type=Path, default=None, help="a .tflite with its sidecar (default: the shipped one)")
    rn.add_argument("--json", action="store_true", help="one JSON object per folder")
    rn.add_argument("--no-check", action="store_true", help="without the line check (the detector's map alone)")
    rn.add_argument("--long-side", type=int, default=None, help="the detector's input long side (default: the sidecar's)")
    rn.add_argument("--print-px", default=None,
                    help="the print height a large frame's input is scaled to (PipelineSettings.video_sizing; "
                         "'none': the fixed size only; default: the pipeline's)")
    args = ap.parse_args(argv)
    if args.cmd in ("make", "make-real"):
        try:
            size = tuple(int(v) for v in args.size.lower().split("x"))
            if len(size) != 2 or min(size) < 32:
                raise ValueError
        except ValueError:
            raise SystemExit(f"error: --size wants WxH, e.g. 1280x720, not {args.size!r}")
        if args.cmd == "make":
            clips = make_clips(args.out, args.count, args.seed, args.motion_blur, size=size)
        else:
            from training.realdocs import RealDocsError

            try:
                clips = make_real_clips(args.out, args.count, args.seed, args.src, size=size, camera=args.camera,
                                        packages=args.packages)
            except RealDocsError as e:
                raise SystemExit(f"error: {e}")
        print(f"{len(clips)} clips, {sum(len(c['urls']) for c in clips)} links in view throughout -> {args.out}")
        return

    from edge_app.errors import LinksDetectorError
    from edge_app.pipeline import Pipeline, PipelineSettings
    from edge_app.print_size import parse_print_px

    try:
        print_px = parse_print_px(args.print_px) if args.print_px is not None else None
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    try:
        settings = PipelineSettings()
        if args.model:
            settings = replace(settings, detector=replace(settings.detector, model_path=args.model))
        if args.no_check:
            settings = replace(settings, detector=replace(settings.detector, use_check=False))
        if args.long_side:
            settings = replace(settings, detector=replace(settings.detector, long_side=args.long_side))
        if args.print_px is not None:
            settings = replace(settings, video_sizing=replace(settings.video_sizing, text_px=print_px))
        pipeline = Pipeline(settings)
    except LinksDetectorError as e:
        raise SystemExit(f"error: {e}")
    with pipeline:
        for folder in args.folders:
            r = run_clips(folder, pipeline)
            if args.json:
                print(json.dumps(asdict(r)))
                continue
            print(f"{folder}: {r.clips} clips, {r.frames} frames, {r.links} links; line reads {r.line_reads}, "
                  f"recall per frame {r.recall_per_frame:.3f}, exact {r.exact}/{r.links}, other URLs {r.other}, "
                  f"{r.ms_per_frame:.1f} ms a frame")


if __name__ == "__main__":
    main()
