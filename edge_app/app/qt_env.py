"""Keeps OpenCV and PyQt6 from fighting over Qt plugins.

The full ``opencv-python`` wheel bundles its own Qt and, when imported, may
point ``QT_QPA_PLATFORM_PLUGIN_PATH`` (or ``QT_PLUGIN_PATH``) at
``cv2/qt/plugins``; PyQt6 then loads plugins built for another Qt and the
window fails with "Could not load the Qt platform plugin". The project
depends on ``opencv-python-headless`` (no Qt inside), and this module also
removes such a path if a full wheel slipped into the environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from pathlib import Path

log = logging.getLogger(__name__)

PLUGIN_VARS = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH")


def cv2_dir() -> Path | None:
    """The installed cv2 package folder (without importing cv2)."""
    import importlib.util

    spec = importlib.util.find_spec("cv2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def guard_qt_plugin_path(environ: MutableMapping[str, str] | None = None,
                         cv2_path: Path | None = None) -> list[str]:
    """Drop Qt plugin-path variables that point into OpenCV's package.
    Returns the names of the variables removed; a user's own paths are kept."""
    env = os.environ if environ is None else environ
    cv2_path = cv2_path or cv2_dir()
    if cv2_path is None:
        return []
    removed = []
    for var in PLUGIN_VARS:
        value = env.get(var)
        if not value:
            continue
        kept = [p for p in value.split(os.pathsep) if p and not _inside(Path(p), cv2_path)]
        if len(kept) == len([p for p in value.split(os.pathsep) if p]):
            continue
        removed.append(var)
        if kept:
            env[var] = os.pathsep.join(kept)
        else:
            del env[var]
        log.warning("ignoring %s=%s: it points into OpenCV's own Qt (install opencv-python-headless)",
                    var, value)
    return removed


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (ValueError, OSError):
        return False
    return True
