"""Photo mode's input sizes from the print's height (edge_app.print_size),
with the shipped model and the real Tesseract where it says so."""

from __future__ import annotations

import numpy as np
import pytest
from sample_truth import PHOTO_URLS, TRUTH, on_link_line

from edge_app.detector import Detector, DetectorSettings
from edge_app.line_check import DEFAULT_CHECK_STEM
from edge_app.model_spec import default_model_path
from edge_app.pipeline import Pipeline, PipelineSettings
from edge_app.print_size import PrintSizing, parse_print_px, photo_sizes, text_height, video_size
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


SIZING = PrintSizing(text_px=40.0, max_long_side=3200)


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
    assert photo_sizes(4032, 960, (1280,), 8.0, PrintSizing(text_px=None)) == (960, (1280,))


VIDEO = PrintSizing(text_px=48.0, max_long_side=1920)


@pytest.mark.parametrize("frame, current, text_px, want", [
    (1920, 960, 12.0, 1920),  # small print: up, to the frame's size (= the cap)
    (1280, 960, 24.0, 1280),  # up to the frame's own size, no further
    (3840, 960, 32.0, 1440),  # 960 x 48 / 32
    (1920, 1440, 40.0, 1440),  # 1728 is within a quarter of 1440: stays
    (1920, 1920, 96.0, 960),  # large print: back down, never under the base
    (1920, 1920, 400.0, 960),
    (1920, 1440, None, 1440),  # nothing measured: stays
])
def test_video_size(frame: int, current: int, text_px: float | None, want: int) -> None:
    assert video_size(frame, 960, current, text_px, VIDEO) == want


def test_parse_print_px() -> None:
    assert parse_print_px("none") is None and parse_print_px(" 40 ") == 40.0
    for bad in ("abc", "0", "-3", ""):
        with pytest.raises(ValueError, match="print-px"):
            parse_print_px(bad)


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
                                    photo_sizing=PrintSizing(text_px=text_px))
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
    assert extra and first(img)[0].shape[1] * spec.output.stride > 1280  # scaled up past the fixed sizes
    kept, _ = detect_frame(img, first, spec, extra, check)
    with Pipeline(PipelineSettings(reader=ReaderSettings(engine="tesserocr"), track=False)) as pipe:
        dets = pipe.process_photo(img).detections
    assert len(kept) == len(dets) > 0
    assert all(np.allclose(a.quad, b.quad) for a, b in zip(kept, dets))


def test_video_grows_its_input_for_a_large_frames_small_print_and_starts_again_at_a_new_source() -> None:
    # The mosaic as a video: the first frame runs at the detector's own size
    # and measures the print; the next ones at a larger input find more lines.
    # After reset() (a new source) the first frame is the detector's own size again.
    frame = _mosaic(read_image(SAMPLES_DIR / "page1.jpg"))
    counts = {}
    for text_px in (None, 48.0):
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"),
                                    video_sizing=PrintSizing(text_px=text_px, max_long_side=1920))
        with Pipeline(settings) as pipe:
            runs = [len(pipe.process(frame).detections) for _ in range(3)]
            pipe.reset()
            runs.append(len(pipe.process(frame).detections))
        counts[text_px] = runs
    off, on = counts[None], counts[48.0]
    assert on[0] == off[0] == on[3] == off[3], counts
    assert on[1] > off[1] and on[2] > off[2], counts


def test_video_keeps_an_input_size_the_user_set() -> None:
    frame = _mosaic(read_image(SAMPLES_DIR / "page1.jpg"))
    runs = {}
    for text_px in (None, 48.0):
        settings = PipelineSettings(reader=ReaderSettings(engine="tesserocr"),
                                    detector=DetectorSettings(long_side=960),
                                    video_sizing=PrintSizing(text_px=text_px, max_long_side=1920))
        with Pipeline(settings) as pipe:
            runs[text_px] = [len(pipe.process(frame).detections) for _ in range(3)]
            assert pipe.video_long_side(frame.shape) == 960
    assert runs[None] == runs[48.0], runs
