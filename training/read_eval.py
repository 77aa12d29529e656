"""End-to-end link reading: what a user gets from one photo.

    python -m training.read_eval --synth data/synth/val --realdocs data/realdocs --limit 200

Runs the runtime pipeline (detector, Tesseract reader, URL rules; photo
mode, no tracking, so no vote across frames) on validation images and
compares the URLs it returns with the printed ones, ``normalize_url`` on
both sides. Reports, per set: links read exactly, links whose host is right
(the part a user checks before clicking), links missed, and URLs reported
that are not printed on the page. Links cut by the frame edge are left out
of both counts. ``--true-quads`` reads each link from its true line quads
instead: the reader's and URL rules' own limit, with a perfect detector.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from edge_app.detector import DetectorSettings
from edge_app.pipeline import Pipeline, PipelineSettings
from edge_app.print_size import parse_print_px
from edge_app.urls import normalize_url
from training.evaluate import EvalItem, realdocs_items, score_frame, synth_items
from training.legibility import read_true_link, true_quads_settings

log = logging.getLogger(__name__)


@dataclass
class ReadResult:
    images: int = 0
    links: int = 0  # printed, whole, valid URLs
    exact: int = 0  # returned letter for letter (after normalisation)
    host_right: int = 0  # a returned URL has the printed link's host
    reported: int = 0  # URLs returned
    not_printed: int = 0  # returned URLs that match no printed link
    # Outlines, scored as training.evaluate scores the detector's lines: the
    # printed link lines (frame edge's cut links left out) that a returned
    # link's quads outline (IoU >= 0.5), and the returned links' quads that
    # outline none. What the user sees drawn, after the URL rules.
    lines: int = 0
    lines_outlined: int = 0
    outlines_wrong: int = 0
    ms_total: float = 0.0

    @property
    def exact_rate(self) -> float:
        return self.exact / max(1, self.links)

    @property
    def host_rate(self) -> float:
        return self.host_right / max(1, self.links)

    @property
    def outline_rate(self) -> float:
        return self.lines_outlined / max(1, self.lines)

    def summary(self) -> dict:
        return {**asdict(self), "exact_rate": round(self.exact_rate, 4), "host_rate": round(self.host_rate, 4),
                "outline_rate": round(self.outline_rate, 4),
                "ms_per_image": round(self.ms_total / max(1, self.images), 1)}


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def read_eval(items: Iterator[EvalItem], pipeline: Pipeline, total: int | None = None) -> ReadResult:
    res = ReadResult()
    for item in tqdm(items, desc="read", total=total):
        printed = Counter(u for g in item.links if not g.partial and (u := normalize_url(g.url)))
        partial_hosts = {_host(u) for g in item.links if g.partial and (u := normalize_url(g.url))}
        out = pipeline.process_photo(item.image)
        got = Counter(link.url for link in out.links)
        res.images += 1
        res.ms_total += out.timings_ms.get("total", 0.0)
        res.links += sum(printed.values())
        res.exact += sum((printed & got).values())
        got_hosts = Counter(_host(u) for u in got.elements())
        res.host_right += sum((Counter(_host(u) for u in printed.elements()) & got_hosts).values())
        res.reported += sum(got.values())
        # A link cut by the frame edge is read as some prefix: not a false report.
        res.not_printed += sum(n for u, n in (got - printed).items() if _host(u) not in partial_hosts)
        found, wrong = score_frame([q for link in out.links for q in link.quads], item.links)
        res.lines += len(found)
        res.lines_outlined += sum(found.values())
        res.outlines_wrong += wrong
    return res


def read_true_quads(items: Iterator[EvalItem], pipeline: Pipeline, total: int | None = None) -> ReadResult:
    """The reader and URL rules alone: each printed link read from its true
    line quads (a perfect detector), the way photo mode reads a link it found
    (main() turns off fitting the quads to their lines: these already fit)."""
    res = ReadResult()
    for item in tqdm(items, desc="read true quads", total=total):
        res.images += 1
        for g in item.links:
            want = normalize_url(g.url)
            if g.partial or not want:
                continue
            t0 = time.perf_counter()
            got = read_true_link(pipeline, item.image, g.quads)
            res.ms_total += (time.perf_counter() - t0) * 1e3
            res.links += 1
            res.exact += got == want
            res.host_right += bool(got) and _host(got) == _host(want)
            res.reported += bool(got)
            res.not_printed += bool(got) and got != want
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, help="a .tflite with its sidecar (default: the shipped model)")
    ap.add_argument("--synth", type=Path)
    ap.add_argument("--realdocs", type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--no-check", action="store_true", help="without the line check (the detector's map alone)")
    ap.add_argument("--photo-long-sides", type=str, default=None,
                    help="photo mode's extra input sizes, comma-separated ('' for none; default: the pipeline's)")
    ap.add_argument("--print-px", type=str, default=None,
                    help="photo mode's print height a large photo is scaled up to (PrintSizing.text_px; "
                         "'none': the fixed sizes only; default: the pipeline's)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--true-quads", action="store_true",
                    help="read each link from its true quads instead of the detector's: the reader's own limit")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = PipelineSettings(detector=DetectorSettings(model_path=args.model, use_check=not args.no_check),
                                track=False)
    if args.photo_long_sides is not None:
        try:
            sides = tuple(int(v) for v in args.photo_long_sides.split(",") if v.strip())
        except ValueError:
            raise SystemExit(f"error: --photo-long-sides wants sizes like 1280 or 1280,1600, not {args.photo_long_sides!r}")
        settings = replace(settings, photo_long_sides=sides)
    if args.print_px is not None:
        try:
            px = parse_print_px(args.print_px)
        except ValueError as e:
            raise SystemExit(f"error: {e}")
        settings = replace(settings, photo_sizing=replace(settings.photo_sizing, text_px=px))
    if args.true_quads:
        settings = true_quads_settings(settings)
    results = {}
    with Pipeline(settings) as pipeline:
        for name, folder, items_fn in (("synthetic", args.synth, synth_items), ("realdocs", args.realdocs, realdocs_items)):
            if folder is None:
                continue
            items = items_fn(folder, args.limit)
            r = read_true_quads(items, pipeline, args.limit) if args.true_quads \
                else read_eval(items, pipeline, total=args.limit)
            results[name] = r.summary()
            print(f"{name}: {r.images} images, {r.links} links: exact {r.exact_rate:.3f}, host right {r.host_rate:.3f}, "
                  f"{r.not_printed} of {r.reported} reported URLs not printed, {r.ms_total / max(1, r.images):.0f} ms/image"
                  + ("" if args.true_quads else f"; their lines outlined {r.outline_rate:.3f} ({r.lines_outlined} of "
                                                f"{r.lines}), {r.outlines_wrong} outlines on no link line"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
