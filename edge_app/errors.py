"""User-facing errors: each says what is wrong and what to do about it.

The CLI and the app print these messages instead of tracebacks.
"""


class LinksDetectorError(Exception):
    """Base class for errors a user can act on."""


class ModelError(LinksDetectorError):
    """The model file or its sidecar is missing or unusable."""


class SourceError(LinksDetectorError):
    """A camera, video or image cannot be opened or read."""


class OcrError(LinksDetectorError):
    """Tesseract is missing or failed."""
