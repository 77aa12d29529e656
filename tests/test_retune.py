"""convert.retune: the shipped detector's decoding chosen again on its
converted files (no SavedModel), its sidecars and card rewritten."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from convert import retune
from edge_app.detector import Detector, DetectorSettings
from edge_app.model_spec import default_model_path, load_spec
from training import shards


@pytest.fixture(scope="module")
def tiny_split(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("split") / "s"
    shards.main(["--out", str(out), "--count", "2", "--seed", "1", "--workers", "1"])
    return out


def _copy_shipped(dest: Path) -> Path:
    src = default_model_path()
    (dest / "variants").mkdir(parents=True)
    for p in [src, src.with_suffix(".json"), *(src.parent / "variants").glob(f"{src.stem}_*")]:
        shutil.copy(p, dest / p.relative_to(src.parent))
    return dest / src.name


def test_retune_rewrites_every_sidecar_and_the_card(tiny_split: Path, tmp_path: Path) -> None:
    model = _copy_shipped(tmp_path / "m")
    before = load_spec(model)
    retune.main(["--model", str(model), "--tune", str(tiny_split), "--data", str(tiny_split),
                 "--tune-long-sides", "960"])
    after = load_spec(model)
    t = after.info["decode_tuning"]
    assert t["split"] == str(tiny_split) and {g["join_threshold"] for g in t["grid"]} == {None, 0.3, 0.2}
    assert (after.decode.threshold, after.decode.min_score, after.decode.join_threshold) == (
        t["threshold"], t["min_score"], t["join_threshold"])
    assert after.decode.height_scale == t["height_scale"]["value"]
    assert after.info["retune"]["float_reference"].endswith("links_detector_fp32.tflite")
    # The fp32 export is the float reference: its parity against itself is exact.
    par = after.info["variants"]["fp32"]["parity"]
    assert par["map_mae"] == 0.0 and par["f1_drop"] == 0.0 and par["images"] == 2
    # What decoding does not change is kept.
    for v in ("int8", "fp16", "fp32"):
        assert after.info["variants"][v]["size_bytes"] == before.info["variants"][v]["size_bytes"]
        side = json.loads((model.parent / ("" if v == "int8" else "variants")
                           / (model.name if v == "int8" else f"{model.stem}_{v}.tflite")).with_suffix(".json").read_text())
        assert side["decode"] == after.to_json()["decode"] and side["info"]["variant"] == v
    assert set(after.info["accuracy"]["synthetic"]) == {"int8", "float"}
    card = (model.parent / "MODEL_CARD.md").read_text()
    assert "## Decoding retuned after conversion" in card and "| join |" in card
    assert (model.parent / "worst_synthetic.png").is_file()
    # The runtime decodes with what was written.
    assert Detector(DetectorSettings(model_path=model)).spec.decode == after.decode


def test_retune_without_the_fp32_export_is_a_clear_error(tiny_split: Path, tmp_path: Path, capsys) -> None:
    model = _copy_shipped(tmp_path / "m")
    before = model.with_suffix(".json").read_text()
    (model.parent / "variants" / f"{model.stem}_fp32.tflite").unlink()
    with pytest.raises(SystemExit):
        retune.main(["--model", str(model), "--tune", str(tiny_split), "--data", str(tiny_split)])
    assert "links_detector_fp32.tflite" in capsys.readouterr().err
    assert model.with_suffix(".json").read_text() == before  # nothing rewritten
