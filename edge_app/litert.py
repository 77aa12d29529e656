"""The LiteRT interpreter, without TensorFlow: one place that finds it and opens model files."""

from __future__ import annotations

from pathlib import Path

from edge_app.errors import ModelError


def interpreter_class():  # noqa: ANN201 - ai_edge_litert's or tflite_runtime's Interpreter
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
        except ImportError as exc:
            raise ModelError("no TFLite runtime: pip install ai-edge-litert") from exc
    return Interpreter


def open_interpreter(path: Path, threads: int, allocate: bool = True):  # noqa: ANN201
    """An interpreter over ``path``, or ModelError saying the file is not a model.
    ``allocate=False``: for a caller that resizes its input first (allocating
    twice costs as much as the first time)."""
    try:
        interp = interpreter_class()(model_path=str(path), num_threads=max(1, int(threads)))
        if allocate:
            interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load model {path}: not a valid TFLite file ({exc}); "
                         "restore it from the repository or rebuild it") from exc
    return interp
