"""The live picture with its links drawn on top, clickable."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QGuiApplication, QImage, QMouseEvent,
                         QPainter, QPainterPath, QPaintEvent, QPen, QPixmap, QPolygonF)
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

from edge_app.app.opening import Opener, open_link, tooltip
from edge_app.results import Link
from edge_app.urls import is_safe_to_open

log = logging.getLogger(__name__)

LINK_COLOR = QColor(40, 170, 40)
HOVER_COLOR = QColor(0, 120, 215)
UNSAFE_COLOR = QColor(200, 40, 40)
HIT_MARGIN = 4.0  # widget pixels around an outline that still count as on it


def to_qimage(image: np.ndarray) -> QImage:
    """BGR or gray uint8 -> QImage that owns its pixels."""
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    if img.ndim == 2:
        q = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_Grayscale8)
    else:
        q = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888)
    return q.copy()  # detach from the numpy buffer


@dataclass(frozen=True)
class _Shape:
    """A link as drawn: outlines and label in widget coordinates."""

    link: Link
    polygons: list[QPolygonF]
    label: QRectF
    text: str


class VideoView(QWidget):
    """Paints the frame (aspect kept, sharp on HiDPI screens) and the links:
    each quad outlined, the URL on a label. Hover highlights a link and shows
    its full URL and host; a left click opens it (http/https only), a right
    click copies it."""

    link_opened = pyqtSignal(str)  # handed to the browser
    link_refused = pyqtSignal(str)  # clicked but not safe to open
    link_copied = pyqtSignal(str)
    links_changed = pyqtSignal(list)  # list[Link] now drawn

    def __init__(self, parent: QWidget | None = None, *, opener: Opener | None = None) -> None:
        super().__init__(parent)
        self.opener = opener  # None: QDesktopServices.openUrl
        self._image: QImage | None = None
        self._frame_size = QSize()
        self._links: list[Link] = []
        self._shapes: list[_Shape] | None = None
        self._hover: int | None = None
        self._mouse: QPointF | None = None  # last pointer position over the view
        self._cache: tuple[int, QSize, float, QPixmap] | None = None
        self._frame_serial = 0
        self.placeholder = "No picture yet"
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(9.0, self._font.pointSizeF()))
        self._font.setBold(True)

    # -------------------------------------------------------------- data
    def set_frame(self, image: np.ndarray) -> None:
        self._image = to_qimage(image)
        size = QSize(image.shape[1], image.shape[0])
        if size != self._frame_size:
            self._frame_size = size
            self._shapes = None
        self._frame_serial += 1
        self.update()

    def set_links(self, links: list[Link]) -> None:
        self._links = list(links)
        self._shapes = None
        # Results arrive several times a second: keep the highlight under a still pointer.
        self._hover = self._index_at(self._mouse) if self._mouse is not None else None
        self.links_changed.emit(list(self._links))
        self.update()

    def clear(self, placeholder: str | None = None) -> None:
        self._image = None
        self._cache = None
        self._frame_size = QSize()
        if placeholder is not None:
            self.placeholder = placeholder
        self.set_links([])

    def links(self) -> list[Link]:
        return list(self._links)

    def has_frame(self) -> bool:
        return self._image is not None

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    # ---------------------------------------------------------- geometry
    def _transform(self) -> tuple[float, float, float]:
        """(scale, x offset, y offset): frame pixels -> widget pixels, aspect kept."""
        fw, fh = self._frame_size.width(), self._frame_size.height()
        if fw <= 0 or fh <= 0:
            return 1.0, 0.0, 0.0
        s = min(self.width() / fw, self.height() / fh)
        return s, (self.width() - fw * s) / 2.0, (self.height() - fh * s) / 2.0

    def frame_to_widget(self, x: float, y: float) -> QPointF:
        s, ox, oy = self._transform()
        return QPointF(ox + x * s, oy + y * s)

    def widget_to_frame(self, p: QPointF) -> tuple[float, float]:
        s, ox, oy = self._transform()
        return (p.x() - ox) / s, (p.y() - oy) / s

    def image_rect(self) -> QRectF:
        s, ox, oy = self._transform()
        return QRectF(ox, oy, self._frame_size.width() * s, self._frame_size.height() * s)

    def link_center(self, link: Link) -> QPointF:
        """Widget point at the middle of the link's first line."""
        q = np.asarray(link.quads[0], np.float32).reshape(4, 2).mean(axis=0)
        return self.frame_to_widget(float(q[0]), float(q[1]))

    def _layout(self) -> list[_Shape]:
        if self._shapes is not None:
            return self._shapes
        fm = QFontMetricsF(self._font)
        bounds = QRectF(self.rect())
        shapes = []
        for link in self._links:
            polys = [QPolygonF([self.frame_to_widget(float(x), float(y))
                                for x, y in np.asarray(q, np.float32).reshape(4, 2)]) for q in link.quads]
            if not polys:
                continue
            first = polys[0].boundingRect()
            text = fm.elidedText(link.url, Qt.TextElideMode.ElideMiddle, max(80.0, bounds.width() - 8))
            w, h = fm.horizontalAdvance(text) + 8, fm.height() + 4
            x = min(max(bounds.left(), first.left()), max(bounds.left(), bounds.right() - w))
            y = first.top() - h - 2
            if y < bounds.top():  # no room above the line: below it
                y = first.bottom() + 2
            shapes.append(_Shape(link, polys, QRectF(x, y, w, h), text))
        self._shapes = shapes
        return shapes

    def link_at(self, pos: QPointF) -> Link | None:
        i = self._index_at(pos)
        return self._layout()[i].link if i is not None else None

    def _index_at(self, pos: QPointF) -> int | None:
        shapes = self._layout()
        # Topmost (last drawn) first; outlines before labels.
        for i in reversed(range(len(shapes))):
            for poly in shapes[i].polygons:
                r = poly.boundingRect().adjusted(-HIT_MARGIN, -HIT_MARGIN, HIT_MARGIN, HIT_MARGIN)
                if poly.containsPoint(pos, Qt.FillRule.OddEvenFill) or (
                        r.contains(pos) and _near_polygon(poly, pos, HIT_MARGIN)):
                    return i
        for i in reversed(range(len(shapes))):
            if shapes[i].label.contains(pos):
                return i
        return None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._shapes = None
        super().resizeEvent(event)

    # ---------------------------------------------------------- painting
    def _scaled_pixmap(self, target: QRectF) -> QPixmap:
        """The frame scaled once per size to the screen's device pixels, so
        it is smooth and sharp on a HiDPI screen (not upscaled by the OS)."""
        dpr = self.devicePixelRatioF()
        size = QSize(max(1, round(target.width() * dpr)), max(1, round(target.height() * dpr)))
        if self._cache is None or self._cache[:3] != (self._frame_serial, size, dpr):
            pm = QPixmap.fromImage(self._image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation))
            pm.setDevicePixelRatio(dpr)
            self._cache = (self._frame_serial, size, dpr, pm)
        return self._cache[3]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 24))
        if self._image is None:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        target = self.image_rect()
        p.drawPixmap(target.topLeft(), self._scaled_pixmap(target))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setFont(self._font)
        for i, shape in enumerate(self._layout()):
            hovered = i == self._hover
            color = HOVER_COLOR if hovered else LINK_COLOR
            if not is_safe_to_open(shape.link.url):
                color = UNSAFE_COLOR
            pen = QPen(color, 3.0 if hovered else 2.0)
            pen.setCosmetic(True)
            p.setPen(pen)
            fill = QColor(color)
            fill.setAlpha(60 if hovered else 0)
            p.setBrush(QBrush(fill))
            for poly in shape.polygons:
                p.drawPolygon(poly)
            path = QPainterPath()
            path.addRoundedRect(shape.label, 3, 3)
            p.fillPath(path, color)
            p.setPen(QColor(255, 255, 255))
            p.drawText(shape.label.adjusted(4, 0, -4, 0),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shape.text)
        p.end()

    # ------------------------------------------------------------- mouse
    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._mouse = event.position()
        i = self._index_at(self._mouse)
        if i != self._hover:
            self._hover = i
            self.update()
            if i is None:
                self.unsetCursor()
                QToolTip.hideText()
            else:
                self.setCursor(Qt.CursorShape.PointingHandCursor)
        if i is not None:
            QToolTip.showText(event.globalPosition().toPoint(), tooltip(self._layout()[i].link.url), self)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._mouse = None
        if self._hover is not None:
            self._hover = None
            self.unsetCursor()
            self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        link = self.link_at(event.position())
        if link is None:
            super().mouseReleaseEvent(event)
            return
        if event.button() == Qt.MouseButton.LeftButton:
            if open_link(link.url, self.opener):
                self.link_opened.emit(link.url)
            else:
                self.link_refused.emit(link.url)
        elif event.button() == Qt.MouseButton.RightButton:
            QGuiApplication.clipboard().setText(link.url)
            self.link_copied.emit(link.url)
        event.accept()


def _near_polygon(poly: QPolygonF, pos: QPointF, margin: float) -> bool:
    """Within ``margin`` of an edge: thin outlines are easy to miss by a pixel."""
    pts = [poly.at(i) for i in range(poly.count())]
    for a, b in zip(pts, pts[1:] + pts[:1]):
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((pos.x() - a.x()) * dx + (pos.y() - a.y()) * dy) / length2))
        cx, cy = a.x() + t * dx, a.y() + t * dy
        if (pos.x() - cx) ** 2 + (pos.y() - cy) ** 2 <= margin * margin:
            return True
    return False
