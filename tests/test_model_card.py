"""The model card names where its worst-case pictures are."""

import json
from pathlib import Path

from convert.model_card import write_card

SIDECAR = Path(__file__).resolve().parents[1] / "models" / "links_detector.json"


def test_card_points_at_the_pictures_of_its_own_conversion(tmp_path) -> None:
    info = json.loads(SIDECAR.read_text())["info"]
    write_card(tmp_path / "shipped.md", {**info, "notes": ""})
    assert "`docs/worst_realdocs.png`" in (tmp_path / "shipped.md").read_text()
    write_card(tmp_path / "experiment.md", {**info, "figures": "/tmp/exp", "notes": ""})
    text = (tmp_path / "experiment.md").read_text()
    assert "`/tmp/exp/worst_realdocs.png`" in text and "docs/worst_" not in text


def test_card_says_how_many_frames_the_parity_check_used(tmp_path) -> None:
    info = json.loads(SIDECAR.read_text())["info"]
    variants = {v: {**d, "parity": {**d["parity"], "images": 123}} for v, d in info["variants"].items()}
    write_card(tmp_path / "card.md", {**info, "variants": variants, "notes": ""})
    assert "on the same 123 synthetic validation frames" in (tmp_path / "card.md").read_text()
