"""The links found this session: newest first, each once."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import (QFileDialog, QHBoxLayout, QHeaderView, QMenu, QPushButton, QToolButton, QTreeWidget,
                             QTreeWidgetItem, QVBoxLayout, QWidget)

from edge_app.app.opening import Opener, open_link, tooltip
from edge_app.results import Link
from edge_app.urls import display_host

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundLink:
    url: str
    host: str
    first_seen: datetime
    source: str


def to_markdown(found: list[FoundLink]) -> str:
    lines = ["# Links found", ""]
    for f in found:
        # Angle brackets make the URL an autolink and keep ( ) _ * literal.
        url = f.url.replace("<", "%3C").replace(">", "%3E")
        lines.append(f"- <{url}> — {f.host} (seen {f.first_seen:%Y-%m-%d %H:%M:%S}"
                     + (f", {f.source}" if f.source else "") + ")")
    return "\n".join(lines) + "\n"


def to_csv(found: list[FoundLink]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["url", "host", "first_seen", "source"])
    for f in found:
        w.writerow([f.url, f.host, f.first_seen.isoformat(timespec="seconds"), f.source])
    return buf.getvalue()


class LinksPanel(QWidget):
    """A list of links with Open, Copy, Copy all and Export."""

    link_opened = pyqtSignal(str)
    link_refused = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, *, opener: Opener | None = None) -> None:
        super().__init__(parent)
        self.opener = opener
        self._found: list[FoundLink] = []  # newest first
        self._urls: set[str] = set()
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Link", "Host"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 150)  # the full host is in the tooltip
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.itemActivated.connect(lambda item, _col: self._open_url(item.data(0, Qt.ItemDataRole.UserRole)))
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.open_button = QPushButton("Open", self)
        self.copy_button = QPushButton("Copy", self)
        self.copy_all_button = QPushButton("Copy all", self)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Markdown…", lambda: self.export_dialog("md"))
        menu.addAction("CSV…", lambda: self.export_dialog("csv"))
        self.export_button.setMenu(menu)
        self.open_button.clicked.connect(self.open_selected)
        self.copy_button.clicked.connect(self.copy_selected)
        self.copy_all_button.clicked.connect(self.copy_all)

        buttons = QHBoxLayout()
        for b in (self.open_button, self.copy_button, self.copy_all_button, self.export_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)
        self._update_buttons()

    # -------------------------------------------------------------- data
    def add_links(self, links: list[Link], source: str = "") -> int:
        """Add the links not listed yet, at the top. Returns how many were new."""
        new = 0
        for link in links:
            if link.url in self._urls:
                continue
            found = FoundLink(link.url, display_host(link.url), datetime.now(), source)
            self._urls.add(link.url)
            self._found.insert(0, found)
            item = QTreeWidgetItem([found.url, found.host])
            item.setData(0, Qt.ItemDataRole.UserRole, found.url)
            item.setToolTip(0, tooltip(found.url))
            item.setToolTip(1, tooltip(found.url))
            self.tree.insertTopLevelItem(0, item)
            new += 1
        if new:
            self._update_buttons()
        return new

    def urls(self) -> list[str]:
        return [f.url for f in self._found]

    def found(self) -> list[FoundLink]:
        return list(self._found)

    def clear(self) -> None:
        self._found.clear()
        self._urls.clear()
        self.tree.clear()
        self._update_buttons()

    def selected_urls(self) -> list[str]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()]

    # ----------------------------------------------------------- actions
    def _open_url(self, url: str) -> bool:
        ok = open_link(url, self.opener)
        (self.link_opened if ok else self.link_refused).emit(url)
        return ok

    def open_selected(self) -> None:
        for url in self.selected_urls():
            self._open_url(url)

    def copy_selected(self) -> None:
        urls = self.selected_urls()
        if urls:
            QGuiApplication.clipboard().setText("\n".join(urls))

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.urls()))

    def to_markdown(self) -> str:
        return to_markdown(self._found)

    def to_csv(self) -> str:
        return to_csv(self._found)

    def export(self, path: Path) -> Path:
        """Write the list to ``path``: CSV for .csv, Markdown otherwise."""
        path = Path(path)
        text = self.to_csv() if path.suffix.lower() == ".csv" else self.to_markdown()
        path.write_text(text, encoding="utf-8")
        return path

    def export_dialog(self, kind: str) -> Path | None:
        filt = "CSV (*.csv)" if kind == "csv" else "Markdown (*.md)"
        name, _ = QFileDialog.getSaveFileName(self, "Export links", f"links.{kind}", filt)
        if not name:
            return None
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix(f".{kind}")
        try:
            return self.export(path)
        except OSError as e:
            self.window().statusBar().showMessage(f"cannot write {path}: {e.strerror or e}", 8000)
            return None

    def _update_buttons(self) -> None:
        has_sel = bool(self.tree.selectedItems())
        self.open_button.setEnabled(has_sel)
        self.copy_button.setEnabled(has_sel)
        self.copy_all_button.setEnabled(bool(self._found))
        self.export_button.setEnabled(bool(self._found))
