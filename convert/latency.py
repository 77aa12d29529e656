"""Detector latency of a .tflite file on this machine (LiteRT, median of many runs)."""

from __future__ import annotations

import time

import numpy as np

SIZES = ((320, 192), (640, 384), (960, 544), (1280, 736))


def _interpreter(path: str, threads: int):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # older installs
        from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
    return Interpreter(model_path=path, num_threads=threads)


def measure(path: str, sizes=SIZES, threads: int = 2, runs: int = 50, warmup: int = 5) -> dict[str, dict[str, float]]:
    it = _interpreter(path, threads)
    inp = it.get_input_details()[0]
    out: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(0)
    for w, h in sizes:
        it.resize_tensor_input(inp["index"], [1, h, w, 1])
        it.allocate_tensors()
        x = rng.integers(0, 256, (1, h, w, 1)).astype(inp["dtype"])
        ts = []
        for i in range(warmup + runs):
            it.set_tensor(inp["index"], x)
            t = time.perf_counter()
            it.invoke()
            if i >= warmup:
                ts.append((time.perf_counter() - t) * 1000)
        out[f"{w}x{h}"] = {"p50_ms": round(float(np.median(ts)), 2), "p90_ms": round(float(np.percentile(ts, 90)), 2)}
    return out
