"""Photo mode's input sizes from the print's height (edge_app.print_size),
with the shipped model and the real Tesseract where it says so."""

from __future__ import annotations

import numpy as np
import pytest
from sample_truth import PHOTO_URLS, TRUTH, on_link_line

from edge_app.detector import Detector
from edge_app.line_check import DEFAULT_CHECK_STEM
from edge_app.model_spec import default_model_path
from edge_app.pipeline import Pipeline, PipelineSettings
from edge_app.print_size import PhotoSizing, photo_sizes, text_height
from edge_app.reader import ReaderSettings
from edge_app.sources import SAMPLES_DIR, read_image
from training.evaluate import check_fn, detect_frame, photo_sizes_fn


def _bands(height_cells: int, shape: tuple[int, int] = (200, 300), gap: int = 6) -> np.ndarray:
    """A stride-1 text map of full-width lines ``height_cells`` tall."""
    m = np.zeros(shape, np.float32)
    for y in range(4, shape[0] - height_cells, height_cells + gap):
        m[y:y + height_cells, 10:shape[1] - 10] = 0.9
    return m


@pytest.mark.parametrize("cells", [4, 8, 14])
def test_text_height_is_the_height_of_the_lines(cells: int) -> None:
    # Regions are grown back from the shrunk band the model was trained on
    # (DecodeSpec.shrink_height 0.5): a band of n cells, n - 1 from the first
    # cell centre to the last (edge_app.decode), is a line of 2(n - 1).
    h = text_height(_bands(cells), stride=1)
    assert h is not None and abs(h - 2 * (cells - 1)) <= 1, h


def test_text_height_weights_long_lines_over_specks() -> None:
    m = _bands(6)
    for x in range(20, 280, 12):  # many short, tall specks in the gap at the bottom
        m[150:170, x:x + 3] = 0.9
    h = text_height(m, stride=1)
    assert h is not None and h < 16, h


def test_text_height_of_an_empty_map_is_none() -> None:
    assert text_height(np.zeros((50, 50), np.float32), stride=2) is None


SIZING = PhotoSizing(text_px=40.0, max_long_side=3200)


@pytest.mark.parametrize("frame, text_px, want", [
    (1280, 10.0, (960, (1280,))),  # the fixed sizes already reach the frame's own resolution
    (4032, None, (960, (1280,))),  # no print seen: nothing to scale to
    (4032, 40.0, (960, (1280,))),  # print large enough already
    (4032, 36.0, (960, (1280,))),  # 960 x 40 / 36 = 1067: no larger than the fixed sizes
    (4032, 20.0, (1920, (2560,))),  # print doubled
    (4032, 10.0, (3200, ())),  # capped at max_long_side, the extra with it
    (2048, 10.0, (2048, (2720,))),  # capped at the frame's own long side
])
def test_photo_sizes(frame: int, text_px: float | None, want: tuple[int, tuple[int, ...]]) -> None:
    assert photo_sizes(frame, 960, (1280,), text_px, SIZING) == want


def test_photo_sizes_off() -> None:
    assert photo_sizes(4032, 960, (1280,), 8.0, PhotoSizing(text_px=None)) == (960, (1280,))


def _mosaic(img: np.ndarray) -> np.ndarray:
    """Four copies of a photo side by side: a larger photo whose print is
    half as tall at the detector's input, at the same sharpness."""
    return np.vstack([np.hstack([img, img]), np.hstack([img, img])])


def test_the_detector_measures_the_print_at_its_input() -> None:
    det = Detector()
    img = read_image(SAMPLES_DIR / "page1.jpg")
    one = det.detect(img, measure_text=True).text_px
    four = det.detect(_mosaic(img), measure_text=True).text_px
    assert det.detect(img).text_px is None  # only when asked
    assert one is not None and four is not None and 0.35 <= four / one <= 0.65, (one, four)


def test_photo_mode_scales_a_large_photo_up_to_its_small_print() -> None:
    # page1's links, four times over in a photo twice as large: at the fixed
    # sizes (960, 1280) their print is half as tall as in page1 itself and
    # some are missed; scaled up to the print, every copy is read as page1 is.
    img = read_image(SAMPLES_DIR / "page1.jpg")
    h, w = img.shape[:2]
    lines = [np.asarray(q, np.float32) + np.float32([dx, dy]) for t in TRUTH["photos"]["page1.jpg"]
             for q in t["quads"] for dx in (0, w) for dy in (0, h)]
    found = {}
    for text_px in (None, SIZING.text_px):
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False,
                                    photo_sizing=PhotoSizing(text_px=text_px))
        with Pipeline(settings) as pipe:
            single = [k.url for k in pipe.process_photo(img).links if k.url in PHOTO_URLS["page1.jpg"]]
            result = pipe.process_photo(_mosaic(img))
        for link in result.links:
            assert all(on_link_line(q, lines) for q in link.quads), f"{link.url} not printed"
        found[text_px] = [k.url for k in result.links if k.url in PHOTO_URLS["page1.jpg"]]
    assert single and len(found[SIZING.text_px]) >= 4 * len(single) > len(found[None]), (single, found)


def test_the_evaluators_photo_sizes_are_the_pipelines() -> None:
    # training.evaluate --photo must find the lines photo mode finds.
    img = _mosaic(read_image(SAMPLES_DIR / "page1.jpg"))
    model = default_model_path()
    sizes, spec = photo_sizes_fn(model)
    check, spec = check_fn(model.with_name(DEFAULT_CHECK_STEM + ".tflite"), spec)
    first, extra = sizes(img)
    assert extra and first(img)[0].shape[1] * 2 > 1280  # scaled up: a stride-2 map of an input over 1280
    kept, _ = detect_frame(img, first, spec, extra, check)
    with Pipeline(PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False)) as pipe:
        dets = pipe.process_photo(img).detections
    assert len(kept) == len(dets) > 0
    assert all(np.allclose(a.quad, b.quad) for a, b in zip(kept, dets))
