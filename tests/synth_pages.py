"""Generator pages as evaluation items (training.evaluate.EvalItem), for tests that score detections."""

from __future__ import annotations

from training.evaluate import EvalItem, GtLink
from training.synth import SynthConfig, Synthesizer


def synth_eval_items(count: int) -> list[EvalItem]:
    """The generator's pages of seeds 0..count-1, with their link lines as the truth."""
    synth = Synthesizer(SynthConfig())
    items = []
    for seed in range(count):
        s = synth.make_sample(seed)
        items.append(EvalItem(f"s{seed}", s.image, [GtLink(ln.url, ln.quads, ln.partial) for ln in s.links]))
    return items
