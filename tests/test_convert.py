"""Export and conversion of a small detector: SavedModel -> int8 / fp16 / fp32
TFLite, run by the runtime's own Detector, checked against the SavedModel."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from convert.parity import check, tflite_maps  # noqa: E402
from convert.tflite_export import convert_saved_model  # noqa: E402
from edge_app.detector import Detector, DetectorSettings  # noqa: E402
from edge_app.errors import ModelError  # noqa: E402
from edge_app.model_spec import ModelSpec  # noqa: E402
from edge_app.preprocess import preprocess  # noqa: E402
from training.evaluate import EvalItem, GtLink  # noqa: E402

pytestmark = pytest.mark.slow

TINY = dict(stem=8, widths=(8, 12, 16, 16), repeats=(1, 1, 1, 1), expand=2, fpn=8, head=8)
SPEC = ModelSpec()


@pytest.fixture(scope="module")
def samples():
    from training.synth import SynthConfig, Synthesizer

    synth = Synthesizer(SynthConfig())
    return [synth.make_sample(seed) for seed in range(6)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, samples):
    """A tiny model exported as a SavedModel, and its three TFLite variants
    (each with its sidecar). Random weights, not trained: parity is about
    what conversion does to the maps, and tracing one training step alone
    costs this file half a minute. A fresh network's activations shrink
    layer by layer to a flat map (0.5 everywhere) that any comparison passes;
    so, as LSUV initialisation does, each batch norm is rescaled on real
    frames to unit output spread, and the logits to a spread of ~3, like a
    trained model's confident maps."""
    import keras
    from keras import layers

    from training.model import ModelConfig, build_model

    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig(**TINY))
    x = np.stack([preprocess(s.image, SPEC.input).image for s in samples[:2]])[..., None].astype(np.float32)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization) or layer.name == "logits":
            out = np.asarray(keras.Model(model.input, layer.output)(x))
            std = out.reshape(-1, out.shape[-1]).std(0) + 1e-6
            w = layer.get_weights()
            if layer.name == "logits":
                kernel, bias = w
                mean = out.reshape(-1, out.shape[-1]).mean(0)
                layer.set_weights([kernel * 3.0 / std, (bias - mean) * 3.0 / std])
            else:  # gamma, beta, moving mean, moving variance
                w[0] = w[0] / std
                w[1] = w[1] - out.reshape(-1, out.shape[-1]).mean(0) / std + 0.5
                layer.set_weights(w)
    root = tmp_path_factory.mktemp("convert")
    sm = root / "saved_model"
    model.export(str(sm), verbose=False)

    def representative():
        for s in samples:
            yield preprocess(s.image, SPEC.input).image[None, :, :, None].astype(np.float32)

    paths = {}
    for variant in ("int8", "fp16", "fp32"):
        p = root / f"tiny_{variant}.tflite"
        p.write_bytes(convert_saved_model(sm, variant, representative if variant == "int8" else None))
        SPEC.save(p.with_suffix(".json"))
        paths[variant] = p
    loaded = tf.saved_model.load(str(sm))
    return loaded, paths, sm


def _items(samples) -> list[EvalItem]:
    return [EvalItem(f"s{i}", s.image, [GtLink(ln.url, ln.quads, ln.partial) for ln in s.links])
            for i, s in enumerate(samples)]


def test_int8_needs_representative_data(exported):
    sm = exported[2]
    with pytest.raises(ValueError, match="representative"):
        convert_saved_model(sm, "int8", None)
    with pytest.raises(ValueError, match="unknown variant"):
        convert_saved_model(sm, "int4")


# Bounds for an untrained network, which is far more sensitive to rounding
# than a trained one (measured here: fp16 MAE 0.003, int8 MAE 0.036, on maps
# whose own spread is ~0.2). A broken conversion (wrong input scale, a
# dropped layer) gives errors of the order of that spread.
@pytest.mark.parametrize("variant,mae,maxerr", [("fp32", 1e-5, 1e-4), ("fp16", 6e-3, 0.2), ("int8", 0.06, 1.0)])
def test_parity_with_the_saved_model(exported, samples, variant, mae, maxerr):
    loaded, paths, _sm = exported
    par = check(loaded.serve, str(paths[variant]), _items(samples[:4]), SPEC)
    assert par.map_mae <= mae, (variant, par)
    assert par.map_max <= maxerr, (variant, par)
    if variant != "int8":
        assert abs(par.f1_drop) <= 0.02, (variant, par)


def test_int8_file_is_full_integer(exported):
    """Every tensor of the int8 model is an integer one (no float fallback),
    and the detector feeds it camera pixels unchanged."""
    from ai_edge_litert.interpreter import Interpreter

    _loaded, paths, _sm = exported
    it = Interpreter(model_path=str(paths["int8"]))
    dtypes = {np.dtype(d["dtype"]) for d in it.get_tensor_details()}
    assert dtypes <= {np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int32)}, dtypes
    fp32 = {np.dtype(d["dtype"]) for d in Interpreter(model_path=str(paths["fp32"])).get_tensor_details()}
    assert np.dtype(np.float32) in fp32
    det = Detector(DetectorSettings(model_path=paths["int8"]))
    assert det.input_dtype == np.uint8


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_detector_resizes_input_at_run_time(exported, samples, variant):
    """The (None, None, 1) input survives conversion: two frame shapes, one
    interpreter, and each map matches the SavedModel on that shape."""
    loaded, paths, _sm = exported
    det = Detector(DetectorSettings(model_path=paths[variant], threads=2))
    landscape = samples[0].image  # 640x480
    portrait = np.ascontiguousarray(np.rot90(samples[1].image))  # 480x640
    max_err, mean_err = (1e-4, 1e-5) if variant == "fp32" else (1.0, 0.06)
    shapes = []
    for frame in (landscape, portrait, landscape):
        link, text, mi = det.prob_map(frame)
        h, w = mi.image.shape
        assert link.shape == (h // SPEC.output.stride, w // SPEC.output.stride)
        assert text is not None and text.shape == link.shape
        ref = np.asarray(loaded.serve(mi.image[None, :, :, None].astype(np.float32)))[0, :, :, SPEC.output.link_channel]
        assert ref.std() > 0.05  # a map with structure, or the comparison proves nothing
        assert np.abs(ref - link).max() <= max_err and np.abs(ref - link).mean() <= mean_err
        shapes.append(link.shape)
    assert shapes[0] != shapes[1] and shapes[0] == shapes[2]
    out = det.detect(portrait)
    assert set(out.timings_ms) == {"preprocess", "detect", "decode"}


def test_tflite_maps_match_detector(exported, samples):
    _loaded, paths, _sm = exported
    det = Detector(DetectorSettings(model_path=paths["fp16"]))
    link, _text, mi = det.prob_map(samples[2].image)
    (m,) = tflite_maps(str(paths["fp16"]), [mi.image])
    np.testing.assert_allclose(m[..., 0], link, atol=1e-6)


def test_corrupt_model_raises_model_error(exported, tmp_path):
    _loaded, paths, _sm = exported
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"this is not a flatbuffer" * 50)
    SPEC.save(garbage.with_suffix(".json"))
    with pytest.raises(ModelError, match="not a valid TFLite"):
        Detector(DetectorSettings(model_path=garbage))
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    SPEC.save(empty.with_suffix(".json"))
    with pytest.raises(ModelError):
        Detector(DetectorSettings(model_path=empty))


def test_model_without_sidecar_or_file_raises(exported, tmp_path):
    _loaded, paths, _sm = exported
    lone = tmp_path / "lone.tflite"
    lone.write_bytes(paths["fp32"].read_bytes())
    with pytest.raises(ModelError, match="sidecar"):
        Detector(DetectorSettings(model_path=lone))
    with pytest.raises(ModelError, match="not found"):
        Detector(DetectorSettings(model_path=tmp_path / "missing.tflite"))


def _tfjs_env_ready() -> bool:
    from convert.tfjs_export import DEFAULT_VENV

    return (DEFAULT_VENV / "bin" / "python").exists()


@pytest.mark.skipif(not _tfjs_env_ready(), reason="no .venv-tfjs (python -m convert.tfjs_export creates it; needs the network once)")
def test_tfjs_export_and_manifest_check(exported, tmp_path):
    from convert.tfjs_export import TfjsExportError, check_manifest, export_tfjs

    _loaded, _paths, sm = exported
    res = export_tfjs(sm, tmp_path / "tfjs")
    assert (tmp_path / "tfjs" / "model.json").is_file() and res.weights > 10
    assert res.size_bytes == sum((tmp_path / "tfjs" / f).stat().st_size for f in res.files)
    if res.node_check is not None:  # Node.js ran the graph model on a 64x96 frame
        assert res.node_check["shape"] == [1, 16, 24, 2] and res.node_check["max_abs_diff"] < 1e-4
    shard = tmp_path / "tfjs" / res.files[1]
    shard.write_bytes(shard.read_bytes()[:-8])
    with pytest.raises(TfjsExportError, match="bytes"):
        check_manifest(tmp_path / "tfjs")
    shard.unlink()
    with pytest.raises(TfjsExportError, match="missing"):
        check_manifest(tmp_path / "tfjs")


def test_a_float_tflite_unfolds_into_the_trainable_network(exported, samples):
    """``training.from_tflite`` puts an fp32 file's folded weights back into
    the Keras network: it computes the file's maps, keeps them once its batch
    norms carry real statistics, and refuses a quantized file."""
    from training.from_tflite import fit_batch_norms, unfold
    from training.model import ModelConfig

    _loaded, paths, _sm = exported
    cfg = ModelConfig(**TINY)
    model = unfold(paths["fp32"], cfg)
    frames = [preprocess(s.image, SPEC.input).image for s in samples[:3]]
    want = tflite_maps(str(paths["fp32"]), frames)
    x = np.stack(frames)[..., None].astype(np.float32)
    got = np.asarray(model(x, training=False))
    assert np.abs(np.stack(want)).std() > 0.05  # maps with structure
    np.testing.assert_allclose(got, np.stack(want), atol=1e-4)

    bn = model.get_layer("stem_bn")
    assert np.allclose(bn.get_weights()[2], 0.0)
    fit_batch_norms(model, [x[:2], x[2:]])
    assert not np.allclose(bn.get_weights()[2], 0.0)  # the stem's real output means
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.stack(want), atol=1e-4)
    # Training mode normalises by these very frames' statistics: the maps move little.
    assert np.abs(np.asarray(model(x, training=True)) - np.stack(want)).mean() < 0.02

    with pytest.raises(ModelError, match="not a float model"):
        unfold(paths["int8"], cfg)
