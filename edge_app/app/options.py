"""What the window is asked to do: the command line's ``app`` options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge_app.pipeline import PipelineSettings


@dataclass(frozen=True)
class AppOptions:
    source: str | None = None  # None: the last source, else the first camera, else ask
    model: Path | None = None  # None: models/links_detector.tflite
    threads: int = 2  # LiteRT interpreter threads, and Tesseract instances reading in parallel
    screenshot: Path | None = None  # save a picture of the window once links are read, then quit
    quit_after: float | None = None  # seconds; with screenshot: the longest wait for a link
    engine: str = "auto"  # Tesseract binding: auto | tesserocr | pytesseract
    use_check: bool = True  # the line check over the detector's candidate lines (DetectorSettings.use_check)


def pipeline_settings(options: AppOptions) -> "PipelineSettings":
    """The live pipeline the window runs: tracking on, so a link is read once."""
    from edge_app.detector import DetectorSettings
    from edge_app.pipeline import PipelineSettings
    from edge_app.reader import ReaderSettings
    from edge_app.tracking import TrackerSettings

    threads = max(1, int(options.threads))
    return PipelineSettings(
        detector=DetectorSettings(model_path=options.model, threads=threads, use_check=options.use_check),
        reader=ReaderSettings(engine=options.engine, workers=threads),  # type: ignore[arg-type]
        tracker=TrackerSettings(),
        track=True,
    )
