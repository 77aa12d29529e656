"""The synthetic page generator: exact labels, determinism, wrapped and partial links."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training.fonts import discover_fonts
from training.layout import PageRenderer
from training.shards import build, digest, read_dataset, sample_seed
from training.synth import SynthConfig, Synthesizer
from training.vocab import DISTRACTORS, Vocabulary


@pytest.fixture(scope="module")
def synth() -> Synthesizer:
    return Synthesizer()


@pytest.fixture(scope="module")
def samples(synth: Synthesizer) -> list:
    return [synth.make_sample(sample_seed(7, i)) for i in range(40)]


def test_link_glyphs_fall_inside_their_quads() -> None:
    """Render each page twice, once with link glyphs in the paper colour: the
    difference is exactly the link ink, which must lie inside the link quads."""
    fams, vocab = discover_fonts(), Vocabulary.load()
    shown, hidden = PageRenderer(fams, vocab), PageRenderer(fams, vocab, hide_links=True)
    inside = total = 0
    n_links = 0
    for seed in range(12):
        a = shown.render(np.random.default_rng(seed), 900, 700, float(np.random.default_rng(seed + 99).uniform(6, 30)))
        b = hidden.render(np.random.default_rng(seed), 900, 700, float(np.random.default_rng(seed + 99).uniform(6, 30)))
        ink = np.abs(np.asarray(a.image, np.int16) - np.asarray(b.image, np.int16)).max(axis=2) > 0
        mask = np.zeros(ink.shape, np.uint8)
        for ln in a.links:
            n_links += 1
            for q in ln.quads:
                # quads are continuous coordinates: pixel (x, y) covers [x, x+1).
                cv2.fillPoly(mask, [np.round((q + [[0, 0], [1, 0], [1, 1], [0, 1]]) * 16).astype(np.int32)], 1, shift=4)
        inside += int((ink & (mask > 0)).sum())
        total += int(ink.sum())
    assert n_links >= 10 and total > 0
    assert inside / total >= 0.99, f"only {inside / total:.4f} of link ink inside the quads"


def test_same_seed_same_bytes(synth: Synthesizer) -> None:
    a, b = synth.make_sample(123), synth.make_sample(123)
    assert a.jpeg == b.jpeg
    assert [ln.to_json() for ln in a.links] == [ln.to_json() for ln in b.links]
    assert synth.make_sample(124).jpeg != a.jpeg


def test_shards_are_deterministic_whatever_the_worker_count(tmp_path) -> None:
    m1 = build(tmp_path / "a", count=6, seed=3, workers=1, shard_size=4, progress=False)
    build(tmp_path / "b", count=6, seed=3, workers=2, shard_size=4, progress=False)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert m1["count"] == 6 and len(list(read_dataset(tmp_path / "a"))) == 6


def test_wrapped_link_has_one_quad_per_line_and_parts_join(samples: list) -> None:
    wrapped = [ln for s in samples for ln in s.links if len(ln.quads) > 1 and not ln.partial]
    assert wrapped, "no wrapped link in 40 samples"
    for ln in wrapped:
        assert len(ln.parts) == len(ln.quads)
        assert "".join(ln.parts) == ln.url
        # Each following line lies below the previous one in the page's own
        # frame: along the normal of the previous line's baseline.
        for a, b in zip(ln.quads, ln.quads[1:]):
            d = a[1] - a[0]
            down = np.array([-d[1], d[0]])
            assert float(np.dot(b.mean(axis=0) - a.mean(axis=0), down)) > 0


def _scheme_breaks(samples: list) -> tuple[int, int]:
    """(wrapped links with a scheme, those whose first line is the scheme alone)."""
    with_scheme = alone = 0
    for s in samples:
        for ln in s.links:
            if len(ln.parts) > 1 and "://" in ln.url:
                with_scheme += 1
                scheme = ln.url.split("://", 1)[0]
                alone += ln.parts[0] in (scheme + ":", scheme + "://")
    return with_scheme, alone


def test_scheme_breaks_only_when_asked(samples: list) -> None:
    broken = Synthesizer(SynthConfig(scheme_break_p=1.0))
    asked = [broken.make_sample(sample_seed(7, i)) for i in range(25)]
    n, alone = _scheme_breaks(asked)
    # Most links are broken after the scheme (not one that opens its line and is longer than it), and the parts still join.
    assert n >= 10 and alone >= 0.7 * n
    assert all("".join(ln.parts) == ln.url for s in asked for ln in s.links if len(ln.parts) > 1 and not ln.partial)
    n0, alone0 = _scheme_breaks(samples)
    assert n0 >= 10 and alone0 < n0 / 4
    assert Synthesizer(SynthConfig(scheme_break_p=0.0)).make_sample(sample_seed(7, 0)).jpeg == samples[0].jpeg


def test_cut_links_are_flagged_partial(samples: list) -> None:
    n_partial = 0
    for s in samples:
        h, w = s.image.shape[:2]
        for ln in s.links:
            pts = np.concatenate(ln.quads)
            outside = (pts[:, 0] < -1).any() or (pts[:, 0] > w + 1).any() or (pts[:, 1] < -1).any() or (pts[:, 1] > h + 1).any()
            assert ln.partial == bool(outside)
            n_partial += ln.partial
    assert n_partial > 0


def test_distractors_never_labelled_and_labels_are_links(samples: list) -> None:
    from edge_app.urls import normalize_url

    urls = [ln.url for s in samples for ln in s.links]
    assert len(urls) > 50
    assert not set(urls) & set(DISTRACTORS)
    bad = [u for u in urls if normalize_url(u) is None]
    assert not bad, f"generated URLs the URL rules reject: {bad[:5]}"
    assert all(normalize_url(d) is None for d in DISTRACTORS if "@" not in d or True)


def test_link_size_range(synth: Synthesizer) -> None:
    cfg = SynthConfig()
    xs = [synth.make_sample(i).meta["xheight"] for i in range(30)]
    assert min(xs) >= cfg.xheight[0] and max(xs) <= cfg.xheight[1]


def test_end_zones_cover_each_line_end_and_not_its_middle() -> None:
    from edge_app.decode import rasterize_targets
    from edge_app.model_spec import DecodeSpec
    from training.synth import LinkLabel, targets

    image = np.full((256, 512, 3), 255, np.uint8)
    quad = np.array([[40, 100], [440, 100], [440, 124], [40, 124]], np.float32)  # one line, 24 px high
    label = LinkLabel("https://example.com/a", "https", [quad], False, {})
    zone = targets(image, [label], [], stride=4, end_zones=True)[1][..., 2]
    band = rasterize_targets([quad], (256, 512), 4, DecodeSpec())
    assert zone.shape == band.shape
    row = zone[112 // 4]
    cols = np.flatnonzero(row)
    # Two runs, one around each end: each straddles the band's end (inside and beyond it).
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    assert len(runs) == 2
    band_cols = np.flatnonzero(band[112 // 4])
    left, right = runs
    assert left[0] < band_cols[0] <= left[-1] and right[0] <= band_cols[-1] < right[-1]
    assert not zone[112 // 4, (band_cols[0] + band_cols[-1]) // 2]  # the middle is not an end
    assert not zone[: 90 // 4].any() and not zone[136 // 4:].any()  # within the line's height


def test_small_line_zone_covers_small_lines_whole_and_no_others() -> None:
    from edge_app.decode import rasterize_targets
    from edge_app.model_spec import DecodeSpec
    from training.synth import SMALL_LINE_PX, LinkLabel, targets

    image = np.full((256, 512, 3), 255, np.uint8)
    small = np.array([[40, 40], [440, 40], [440, 52], [40, 52]], np.float32)  # 12 px high
    large = np.array([[40, 120], [440, 120], [440, 148], [40, 148]], np.float32)  # 28 px high
    assert 12 < SMALL_LINE_PX < 28
    labels = [LinkLabel("https://example.com/a", "https", [small], False, {}),
              LinkLabel("https://example.com/b", "https", [large], False, {})]
    _img, maps = targets(image, labels, [], stride=4, end_zones=True, small_lines=True)
    assert maps.shape[-1] == 4
    zone = maps[..., 3]
    band = rasterize_targets([small], (256, 512), 4, DecodeSpec())
    # The whole small line, more than its band (its ends and the rows above and below it) ...
    assert np.all(zone[band > 0]) and zone.any(axis=1).sum() > band.any(axis=1).sum() and zone.sum() > band.sum()
    assert zone[46 // 4, 44 // 4] and zone[46 // 4, 436 // 4]
    # ... and nothing of the large line or the page around them.
    assert not zone[100 // 4:].any() and not zone[:, : 32 // 4].any() and not zone[:, 448 // 4:].any()
    # Without the flag the maps are as before.
    assert targets(image, labels, [], stride=4, end_zones=True)[1].shape[-1] == 3


def test_targets_at_the_runtime_scale_match_the_frame() -> None:
    """``long_side`` trains on the frame as the runtime sees it: the input is
    resized, and the link map decodes back to the labelled line in frame pixels."""
    from edge_app.decode import decode
    from edge_app.model_spec import DecodeSpec, InputSpec
    from edge_app.preprocess import preprocess
    from edge_app.results import quad_iou
    from training.synth import LinkLabel, targets

    image = np.full((480, 640, 3), 255, np.uint8)
    quad = np.array([[40, 100], [440, 100], [440, 116], [40, 116]], np.float32)  # 16 px high
    label = LinkLabel("https://example.com/a", "https", [quad], False, {})
    small, small_maps = targets(image, [label], [], stride=4)
    big, big_maps = targets(image, [label], [], stride=4, long_side=960)
    assert small.shape == (480, 640)
    assert big.shape == preprocess(image, InputSpec(), long_side=960).image.shape and big.shape[1] == 960
    assert big_maps.shape[:2] == (big.shape[0] // 4, big.shape[1] // 4)
    # The band is the same shrunk line, 1.5 times larger each way.
    ratio = (big_maps[..., 0] > 0).sum() / (small_maps[..., 0] > 0).sum()
    assert 1.8 < ratio < 2.8
    sx, sy = 640 / big.shape[1], 480 / big.shape[0]
    [det] = decode(big_maps[..., 0].astype(np.float32), DecodeSpec(), stride=4)
    assert quad_iou(det.quad * np.array([sx, sy], np.float32), quad) > 0.5


def test_training_frames_at_a_drawn_long_side(tmp_path) -> None:
    """``load`` with a (low, high) long side: each frame resized to its own
    size in the range, the same sizes on every load."""
    pytest.importorskip("tensorflow")
    from training.dataset import load

    build(tmp_path / "s", count=6, seed=5, workers=1, shard_size=6, progress=False)
    a = load(tmp_path / "s", progress=False, long_side=(640, 960))
    b = load(tmp_path / "s", progress=False, long_side=(640, 960))
    sides = [max(im.shape) for im in a.images]
    assert all(640 <= s <= 960 for s in sides) and len(set(sides)) > 1
    assert sides == [max(im.shape) for im in b.images]
    assert all(m.shape[:2] == (im.shape[0] // 4, im.shape[1] // 4) for im, m in zip(a.images, a.maps))
    assert [max(im.shape) for im in load(tmp_path / "s", progress=False).images] == [640] * 6
