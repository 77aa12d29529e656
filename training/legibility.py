"""Whether a printed link can be read at all: the reader and the URL rules on
the link's true line quads (a perfect detector).

A link that Tesseract misreads even from its own outline is one no user gets
from any detector; ``training.read_eval --true-quads`` counts such links, and
``training.evaluate --legible`` splits detection recall by them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from edge_app.pipeline import Pipeline, PipelineSettings


def true_quads_settings(settings: PipelineSettings) -> PipelineSettings:
    """``settings`` for reading from true quads: a perfect detector's quads
    already fit their lines (fitting them anyway: real documents 0.698 ->
    0.679 exact, synthetic 0.158 -> 0.177)."""
    return replace(settings, reader=replace(settings.reader, fit_lines=False))


def read_true_link(pipeline: Pipeline, image: np.ndarray, quads: list[np.ndarray]) -> str | None:
    """The URL photo mode reads from one link's line quads, read as one link."""
    [link] = pipeline.read_links(image, list(quads), groups=[list(range(len(quads)))])
    return link.url
