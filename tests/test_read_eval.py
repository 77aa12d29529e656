"""End-to-end reading figures (training.read_eval) over a tiny synthetic split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import read_eval, shards
from training.evaluate import synth_items


@pytest.fixture(scope="module")
def tiny_split(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("split") / "s"
    shards.main(["--out", str(out), "--count", "2", "--seed", "1", "--workers", "1"])
    return out


def test_photo_mode_with_and_without_its_second_size(tiny_split: Path, tmp_path: Path) -> None:
    got = {}
    for name, sides in (("with", "1280"), ("without", "")):
        out = tmp_path / f"{name}.json"
        read_eval.main(["--synth", str(tiny_split), "--photo-long-sides", sides, "--json", str(out)])
        got[name] = json.loads(out.read_text())["synthetic"]
    assert got["with"]["images"] == got["without"]["images"] == 2
    assert got["with"]["links"] == got["without"]["links"] > 0  # the same links are scored either way
    # Outlines are scored over every printed link line the frame edge does not cut.
    lines = sum(len(link.quads) for item in synth_items(tiny_split) for link in item.links if not link.partial)
    for g in got.values():
        assert 0 <= g["exact"] <= g["host_right"] <= g["links"] and g["not_printed"] <= g["reported"]
        assert g["lines"] == lines and 0 <= g["lines_outlined"] <= lines
        assert g["outline_rate"] == round(g["lines_outlined"] / lines, 4)
    # A link read letter for letter is outlined where it is printed.
    assert got["with"]["exact"] == 0 or got["with"]["lines_outlined"] > 0


def test_bad_photo_sizes_are_a_clear_error(tiny_split: Path) -> None:
    with pytest.raises(SystemExit, match="--photo-long-sides wants"):
        read_eval.main(["--synth", str(tiny_split), "--photo-long-sides", "big"])
