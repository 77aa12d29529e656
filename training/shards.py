"""Dataset shards on disk: JPEG bytes + labels, written in parallel, deterministic.

Layout of a dataset folder:
  manifest.json            seed, generator settings, package and font versions
  shard-00000.npz          jpeg (concatenated bytes), offsets
  shard-00000.jsonl        one label line per sample, same order
Sample ``i`` of the dataset always has seed ``seed * 1_000_003 + i``, so a
shard's bytes do not depend on how many workers made it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing as mp
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from tqdm import tqdm

from training.camera import add_camera_flags, camera_from_flags
from training.synth import LinkLabel, Sample, SynthConfig, Synthesizer

SEED_STRIDE = 1_000_003


def sample_seed(base_seed: int, index: int) -> int:
    return base_seed * SEED_STRIDE + index


def label_line(s: Sample) -> str:
    return json.dumps({
        "meta": s.meta,
        "links": [ln.to_json() for ln in s.links],
        "text_quads": [np.round(q, 1).tolist() for q in s.text_quads],
    }, separators=(",", ":"))


_worker: Any = None
# What makes the samples: a picklable factory and its arguments (spawned
# workers build their own); anything with ``make_sample(seed) -> Sample``.
Source = tuple[Callable[..., Any], tuple]


def _init_worker(source: Source) -> None:
    global _worker  # one renderer (fonts or PDFs loaded once) per worker process
    import cv2

    cv2.setNumThreads(1)  # the pool already uses every core
    factory, args = source
    _worker = factory(*args)


def _make(seed: int) -> tuple[bytes, str]:
    assert _worker is not None
    s = _worker.make_sample(seed)
    return s.jpeg, label_line(s)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pillow", "opencv-python-headless"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _module_name() -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return spec.name if spec is not None else "training.shards"


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def build(out: Path, count: int, seed: int, workers: int, shard_size: int, config: Any = None,
          progress: bool = True, source: Source | None = None) -> dict:
    """``count`` samples in shards under ``out``; ``source`` defaults to the
    page generator with ``config`` (a SynthConfig)."""
    config = config or SynthConfig()
    source = source or (Synthesizer, (config,))
    out.mkdir(parents=True, exist_ok=True)
    from training.fonts import discover_fonts

    fonts = discover_fonts()
    t0 = time.time()
    seeds = [sample_seed(seed, i) for i in range(count)]
    n_links = 0
    bar = tqdm(total=count, unit="img", desc="synth", disable=not progress)
    with contextlib.ExitStack() as stack:
        if workers > 1:
            # spawn, not fork: a fork taken after OpenCV has started its thread
            # pool in this process can deadlock the child (it hung CI for 10 min).
            pool = stack.enter_context(mp.get_context("spawn").Pool(workers, initializer=_init_worker,
                                                                    initargs=(source,)))
            results: Iterator[tuple[bytes, str]] = pool.imap(_make, seeds, chunksize=4)
        else:
            _init_worker(source)
            results = map(_make, seeds)
        for shard_i, start in enumerate(range(0, count, shard_size)):
            jpegs, labels = [], []
            for _ in range(start, min(count, start + shard_size)):
                j, lab = next(results)
                jpegs.append(j)
                labels.append(lab)
                n_links += lab.count('"url"')
                bar.update(1)
            offsets = np.cumsum([0] + [len(j) for j in jpegs]).astype(np.int64)
            np.savez(out / f"shard-{shard_i:05d}.npz", jpeg=np.frombuffer(b"".join(jpegs), np.uint8), offsets=offsets)
            (out / f"shard-{shard_i:05d}.jsonl").write_text("\n".join(labels) + "\n")
    bar.close()
    elapsed = time.time() - t0
    manifest = {
        "count": count, "seed": seed, "seed_rule": f"sample i has seed {seed}*{SEED_STRIDE}+i",
        "shard_size": shard_size, "config": asdict(config), "links": n_links,
        "fonts": sorted({f.name for f in fonts}), "font_faces": sum(1 + (f.italic is not None) + (f.bold is not None) for f in fonts),
        "versions": _versions(), "commit": git_commit(),
        "command": " ".join([Path(sys.executable).name, "-m", _module_name()] + sys.argv[1:]),
        "samples_per_second": round(count / elapsed, 2), "workers": workers,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def folders(spec: str | Path) -> list[Path]:
    """The shard folders of a comma-separated list ("a,b"; blanks dropped)."""
    return [Path(f.strip()) for f in str(spec).split(",") if f.strip()]


def parse_label_line(line: str) -> tuple[list[LinkLabel], list[np.ndarray], dict]:
    """A shard's label line (``label_line``) -> (links, text quads, meta)."""
    d = json.loads(line)
    return [LinkLabel.from_json(x) for x in d["links"]], [np.asarray(q, np.float32) for q in d["text_quads"]], d["meta"]


def read_dataset(folder: Path) -> Iterator[tuple[bytes, list[LinkLabel], list[np.ndarray], dict]]:
    """Yield (jpeg bytes, links, text quads, meta) for every sample, in order."""
    for npz in sorted(folder.glob("shard-*.npz")):
        data = np.load(npz)
        buf, off = data["jpeg"], data["offsets"]
        lines = npz.with_suffix(".jsonl").read_text().splitlines()
        for i, line in enumerate(lines):
            yield (buf[off[i]:off[i + 1]].tobytes(), *parse_label_line(line))


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.glob("shard-*")):
        h.update(p.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Generate synthetic page photos with exact link labels.")
    ap.add_argument("--out", type=Path, default=Path("data/synth/train"))
    ap.add_argument("--count", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(1, mp.cpu_count()))
    ap.add_argument("--shard-size", type=int, default=500)
    ap.add_argument("--scheme-break-p", type=float, default=SynthConfig.scheme_break_p,
                    help="share of links that do not fit a line broken right after the scheme ('https:' / 'https://')")
    add_camera_flags(ap)
    args = ap.parse_args(argv)
    config = SynthConfig(camera=camera_from_flags(args), scheme_break_p=args.scheme_break_p)
    m = build(args.out, args.count, args.seed, args.workers, args.shard_size, config=config)
    print(f"{m['count']} samples, {m['links']} links, {m['samples_per_second']} samples/s with {m['workers']} workers "
          f"-> {args.out}")


if __name__ == "__main__":
    main()
