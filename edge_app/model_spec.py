"""The model sidecar: everything the runtime must know about a model file.

A model is ``<stem>.tflite`` plus ``<stem>.json``. Nothing about a model is
hard-coded in the runtime; it is all read from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edge_app.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL_STEM = "links_detector"


@dataclass(frozen=True)
class InputSpec:
    """How a frame becomes model input (see edge_app.preprocess)."""

    channels: int = 1  # grayscale
    long_side: int = 640  # the frame's longer side is resized to this
    multiple: int = 32  # both sides are rounded to a multiple of this
    # The network normalises internally (a Rescaling layer), so the input is
    # raw 0..255 gray pixels: a uint8 model takes camera pixels unchanged.
    pixel_range: tuple[float, float] = (0.0, 255.0)


@dataclass(frozen=True)
class DecodeSpec:
    """Turns the link probability map into quads (see edge_app.decode).

    Training draws targets with shrink_quad() and decoding undoes it with
    expand_rect(), both from these two numbers: one rule, two directions.
    """

    threshold: float = 0.5  # pixel probability that counts as "link"
    min_score: float = 0.6  # mean probability a region must reach
    min_area: float = 3.0  # map pixels; smaller blobs are noise
    # Hysteresis: pixels at or above this join the pieces above ``threshold``
    # that they connect into one region (its shape and score still come from
    # the pieces). A small tilted line's band dips between characters and
    # would otherwise come out as several short quads, each too short to
    # count or to read. None: each piece is a region of its own.
    join_threshold: float | None = None
    shrink_height: float = 0.5  # target band height / line height
    shrink_ends: float = 0.2  # pulled in at each end, in line heights
    # Decoded quad height x this. A trained band comes out thicker than its
    # target, so quads grown back by 1/shrink_height are too tall and take in
    # the neighbouring lines' ink; convert measures the factor on a tuning
    # split (median true / decoded height). Decoding only: targets ignore it.
    height_scale: float = 1.0

    @property
    def joins(self) -> bool:
        """Whether decoding joins pieces: a join bar at or above the threshold connects nothing new."""
        return self.join_threshold is not None and self.join_threshold < self.threshold


@dataclass(frozen=True)
class OutputSpec:
    stride: int = 4
    channels: tuple[str, ...] = ("link", "text")
    link_channel: int = 0


@dataclass(frozen=True)
class ModelSpec:
    input: InputSpec = field(default_factory=InputSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    decode: DecodeSpec = field(default_factory=DecodeSpec)
    # Free-form provenance: data recipe, commit, command, metrics.
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["input"]["pixel_range"] = list(self.input.pixel_range)
        d["output"]["channels"] = list(self.output.channels)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "ModelSpec":
        try:
            inp = dict(d.get("input", {}))
            if "pixel_range" in inp:
                inp["pixel_range"] = tuple(inp["pixel_range"])
            out = dict(d.get("output", {}))
            if "channels" in out:
                out["channels"] = tuple(out["channels"])
            return cls(
                input=InputSpec(**inp),
                output=OutputSpec(**out),
                decode=DecodeSpec(**d.get("decode", {})),
                info=dict(d.get("info", {})),
            )
        except TypeError as exc:  # unknown or missing keys
            raise ModelError(f"model sidecar has unexpected fields: {exc}") from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def sidecar_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def default_model_path() -> Path:
    return MODELS_DIR / f"{DEFAULT_MODEL_STEM}.tflite"


def load_spec(model_path: Path) -> ModelSpec:
    """Read the JSON sidecar next to ``model_path``."""
    path = sidecar_path(model_path)
    if not path.is_file():
        raise ModelError(f"no sidecar {path.name} next to {model_path}: a model needs its JSON description")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read model sidecar {path}: {exc}") from exc
    return ModelSpec.from_json(data)
