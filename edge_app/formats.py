"""How ``detect`` writes its reports: json (DESIGN.md's contract), text,
csv and markdown.

Every format streams: a line (or row) per input as soon as it is done, so
a long run shows results early and a failure loses nothing already read.
Every input appears in every format, also one without links or one that
failed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Protocol

from edge_app.batch import PhotoReport, VideoReport

Report = PhotoReport | VideoReport

FORMATS = ("text", "json", "csv", "markdown")


@dataclass
class Summary:
    inputs: int = 0
    failed: int = 0
    links: int = 0

    def add(self, report: Report) -> None:
        self.inputs += 1
        self.failed += bool(report.error)
        if isinstance(report, VideoReport):
            self.links += len(report.links)
        elif report.result is not None:
            self.links += len(report.result.links)


class Formatter(Protocol):
    def header(self) -> list[str]: ...

    def render(self, report: Report) -> list[str]: ...

    def footer(self, summary: Summary) -> list[str]: ...


def frame_ranges(frames: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2, 5, 7-8"."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return ", ".join(f"{a}-{b}" if b != a else f"{a}" for a, b in runs)


def _box(box) -> str:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return f"{x0},{y0}-{x1},{y1}"


class JsonFormat:
    """One JSON object per input, one per line (DESIGN.md)."""

    def header(self) -> list[str]:
        return []

    def render(self, report: Report) -> list[str]:
        return [json.dumps(report.to_json(), ensure_ascii=False)]

    def footer(self, summary: Summary) -> list[str]:
        return []


class TextFormat:
    """For people reading a terminal."""

    def header(self) -> list[str]:
        return []

    def render(self, report: Report) -> list[str]:
        if isinstance(report, VideoReport):
            return self._video(report)
        if report.result is None:
            return [f"{report.path}: error: {report.error}"]
        r = report.result
        n = len(r.links)
        lines = [f"{report.path}  {r.width}x{r.height}  {n} link{'s' * (n != 1)}"
                 f"  ({r.timings_ms.get('total', 0.0):.0f} ms)"]
        width = max((len(link.url) for link in r.links), default=0)
        for link in r.links:
            lines.append(f"  {link.url:<{width}}  box {_box(link.box)}  score {link.score:.2f}")
        return lines

    def _video(self, v: VideoReport) -> list[str]:
        fps = f" @ {v.fps:g} fps" if v.fps else ""
        n = len(v.links)
        lines = [f"{v.path}  {v.frames} frames{fps}  {n} link{'s' * (n != 1)}"
                 f"  ({v.timings_ms.get('total', 0.0):.0f} ms/frame median)"]
        width = max((len(link.url) for link in v.links), default=0)
        for link in v.links:
            lines.append(f"  {link.url:<{width}}  frames {frame_ranges(link.frames)}  score {link.score:.2f}")
        if v.error:
            lines.append(f"{v.path}: error: {v.error}")
        return lines

    def footer(self, summary: Summary) -> list[str]:
        if summary.inputs < 2 and not summary.failed:
            return []
        failed = f", {summary.failed} failed" if summary.failed else ""
        return [f"{summary.inputs} input{'s' * (summary.inputs != 1)}, "
                f"{summary.links} link{'s' * (summary.links != 1)}{failed}"]


CSV_COLUMNS = ("input", "kind", "url", "raw", "x0", "y0", "x1", "y1", "score", "frames", "error")


class CsvFormat:
    """One row per link; an input without links (or that failed) gets one row
    with the link columns empty, so every input is listed."""

    def _row(self, values: list) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(values)
        return buf.getvalue()

    def header(self) -> list[str]:
        return [self._row(list(CSV_COLUMNS))]

    def render(self, report: Report) -> list[str]:
        if isinstance(report, VideoReport):
            rows = [[report.path, "video", v.url, v.raw, *(round(c, 1) for c in v.first_box), round(v.score, 4),
                     " ".join(map(str, v.frames)), ""] for v in report.links]
        elif report.result is not None:
            rows = [[report.path, "image", link.url, link.raw, *(round(c, 1) for c in link.box),
                     round(link.score, 4), "", ""] for link in report.result.links]
        else:
            rows = []
        kind = "video" if isinstance(report, VideoReport) else "image"
        if report.error or not rows:
            rows.append([report.path, kind] + [""] * 8 + [report.error or ""])
        return [self._row(r) for r in rows]

    def footer(self, summary: Summary) -> list[str]:
        return []


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class MarkdownFormat:
    """A GitHub-flavoured table, one row per link."""

    def header(self) -> list[str]:
        return ["| input | link | box | score | frames |", "|---|---|---|---|---|"]

    def render(self, report: Report) -> list[str]:
        p = _md(report.path)
        rows: list[str] = []
        if isinstance(report, VideoReport):
            rows = [f"| {p} | {_md(v.url)} | {_box(v.first_box)} | {v.score:.2f} | {frame_ranges(v.frames)} |"
                    for v in report.links]
        elif report.result is not None:
            rows = [f"| {p} | {_md(link.url)} | {_box(link.box)} | {link.score:.2f} |  |"
                    for link in report.result.links]
        if report.error:
            rows.append(f"| {p} | **error:** {_md(report.error)} |  |  |  |")
        elif not rows:
            rows.append(f"| {p} | (no links) |  |  |  |")
        return rows

    def footer(self, summary: Summary) -> list[str]:
        return []


def formatter(name: str) -> Formatter:
    return {"text": TextFormat, "json": JsonFormat, "csv": CsvFormat, "markdown": MarkdownFormat}[name]()
