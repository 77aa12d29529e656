"""One synthetic camera frame of a printed page, with exact link labels.

``Synthesizer(config).make_sample(seed)`` is deterministic for a seed: the
same seed gives the same pixels and labels, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_app.decode import fill_cells, rasterize_targets, shrink_quad
from edge_app.model_spec import DecodeSpec
from edge_app.preprocess import preprocess
from edge_app.results import quad_height
from edge_app.model_spec import InputSpec
from training.camera import CameraConfig, photograph, random_geometry, warp_image, warp_points
from training.fonts import FontFamily, discover_fonts
from training.layout import PageRenderer
from training.vocab import Vocabulary


@dataclass(frozen=True)
class SynthConfig:
    out_size: tuple[int, int] = (640, 480)
    portrait_p: float = 0.25
    # Link x-height in output pixels: log-uniform over this range.
    xheight: tuple[float, float] = (5.0, 40.0)
    min_canvas_xheight: float = 8.0  # render at least this large, then shrink like a lens
    link_rate: float = 0.25  # per prose draw (a draw is a link or a whole sentence)
    scheme_break_p: float = 0.0  # share of line-end links broken right after the scheme
    camera: CameraConfig = field(default_factory=CameraConfig)


@dataclass
class LinkLabel:
    url: str
    kind: str
    quads: list[np.ndarray]  # one per printed line, output pixels, tl tr br bl
    partial: bool  # cut by the frame edge
    style: dict
    parts: list[str] = field(default_factory=list)  # URL text on each line, in quad order

    def to_json(self) -> dict:
        return {
            "url": self.url, "kind": self.kind, "partial": self.partial, "style": self.style, "parts": self.parts,
            "quads": [np.round(q, 2).tolist() for q in self.quads],
        }

    @classmethod
    def from_json(cls, d: dict) -> "LinkLabel":
        return cls(d["url"], d["kind"], [np.asarray(q, np.float32) for q in d["quads"]], d["partial"], d.get("style", {}),
                   d.get("parts", []))


@dataclass
class Sample:
    image: np.ndarray  # BGR uint8, out_size
    jpeg: bytes  # the exact bytes ``image`` was decoded from
    links: list[LinkLabel]
    text_quads: list[np.ndarray]
    meta: dict


def inside_frame(q: np.ndarray, w: int, h: int, tol: float = 1.0) -> bool:
    return bool((q[:, 0] >= -tol).all() and (q[:, 0] <= w + tol).all() and (q[:, 1] >= -tol).all() and (q[:, 1] <= h + tol).all())


def visible_in_frame(q: np.ndarray, w: int, h: int) -> bool:
    """Enough of the line is in the frame to be seen as link text (a long
    link can have its centre outside the frame and still show many characters)."""
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inter, _ = cv2.intersectConvexConvex(cv2.convexHull(q.astype(np.float32)), frame)
    height = float(np.linalg.norm(q[3] - q[0]))
    return inter >= max(1.0, 1.5 * height * height) or inter >= 0.5 * abs(cv2.contourArea(q.astype(np.float32)))


class Synthesizer:
    def __init__(self, config: SynthConfig | None = None, families: list[FontFamily] | None = None,
                 vocab: Vocabulary | None = None) -> None:
        self.config = config or SynthConfig()
        self.renderer = PageRenderer(families or discover_fonts(), vocab or Vocabulary.load())

    def make_sample(self, seed: int) -> Sample:
        cfg = self.config
        rng = np.random.default_rng(seed)
        w, h = cfg.out_size
        if rng.random() < cfg.portrait_p:
            w, h = h, w
        lo, hi = np.log(cfg.xheight[0]), np.log(cfg.xheight[1])
        xh = float(np.exp(rng.uniform(lo, hi)))
        zoom = max(1.0, cfg.min_canvas_xheight / xh) * rng.uniform(1.0, 1.25)
        cw, ch = int(w * zoom * 1.15), int(h * zoom * 1.15)
        page = self.renderer.render(rng, cw, ch, xh * zoom, link_rate=cfg.link_rate,
                                    scheme_break_p=cfg.scheme_break_p)
        geo = random_geometry(rng, (cw, ch), (w, h), zoom, cfg.camera)
        desk = tuple(int(v) for v in rng.integers(10, 120, 3))
        warped = warp_image(np.asarray(page.image), geo, zoom, desk)
        image, jpeg = photograph(rng, warped, cfg.camera)

        links: list[LinkLabel] = []
        for ld in page.links:
            if not ld.quads:
                continue
            quads = [warp_points(q, geo) for q in ld.quads]
            if not any(visible_in_frame(q, w, h) for q in quads):
                continue
            partial = not all(inside_frame(q, w, h) for q in quads)
            style = dict(ld.style)
            style["xheight"] = round(xh, 2)
            links.append(LinkLabel(ld.url, ld.kind, quads, partial, style, list(ld.parts)))
        text_quads = [q2 for q in page.text_quads if visible_in_frame(q2 := warp_points(q, geo), w, h)]
        meta = {"seed": seed, "xheight": round(xh, 3), "zoom": round(zoom, 3), "size": [w, h]}
        return Sample(image=image, jpeg=jpeg, links=links, text_quads=text_quads, meta=meta)


# Link-map value of a pixel the loss ignores: text that looks like a link but
# is not labelled one either way (training.pdfpages' look-alikes).
IGNORE = 2


def targets(image: np.ndarray, links: list[LinkLabel], text_quads: list[np.ndarray], stride: int = 4,
            input_spec: InputSpec | None = None, decode_spec: DecodeSpec | None = None,
            ignore_quads: list[np.ndarray] | None = None, end_zones: bool = False,
            long_side: int | None = None, small_lines: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Model input (gray uint8) and target maps (link, text) at ``stride``,
    through the runtime's own preprocessing and the decoder's own shrink rule.
    ``ignore_quads`` mark link-map pixels outside every link as IGNORE;
    ``end_zones`` adds a third map, ``end_zone_map`` of the link lines;
    ``small_lines`` then a fourth, ``small_line_map`` of them;
    ``long_side`` resizes the frame as the runtime would (None: as made)."""
    spec = input_spec or InputSpec()
    h, w = image.shape[:2]
    mi = preprocess(image, spec, long_side=long_side or max(w, h))
    dspec = decode_spec or DecodeSpec()
    sx, sy = mi.scale_x, mi.scale_y

    def to_input(q: np.ndarray) -> np.ndarray:
        return q / np.array([sx, sy], np.float32)

    link_quads = [to_input(q) for ln in links for q in ln.quads]
    link_map = rasterize_targets(link_quads, mi.image.shape, stride, dspec)
    text_map = rasterize_targets([to_input(q) for q in text_quads], mi.image.shape, stride, dspec)
    text_map = np.maximum(text_map, link_map)
    if ignore_quads:
        ignore = rasterize_targets([to_input(np.asarray(q, np.float32)) for q in ignore_quads], mi.image.shape, stride, dspec)
        link_map = np.where((link_map == 0) & (ignore > 0), IGNORE, link_map).astype(np.uint8)
    maps = [link_map, text_map]
    if end_zones:
        maps.append(end_zone_map(link_quads, mi.image.shape, stride, dspec))
    if small_lines:
        maps.append(small_line_map(link_quads, mi.image.shape, stride))
    return mi.image, np.stack(maps, axis=-1)


# Link lines shorter than this (model-input pixels) make up small_line_map. On
# the generator's frames at their own size (how training sees them) the
# shipped model finds 0.20 of the lines under 10 px, 0.45 of those 10-16 px and
# 0.63-0.81 of larger ones; lines under 16 px are about half of all lines.
SMALL_LINE_PX = 16.0


def small_line_map(quads: list[np.ndarray], shape: tuple[int, int], stride: int,
                   max_height: float = SMALL_LINE_PX) -> np.ndarray:
    """Map (H/stride, W/stride) uint8 {0,1} covering the whole of each link
    line (not its shrunk band) whose height is under ``max_height``, for quads
    in input pixels.

    Small lines are where the detector loses most of its recall, and their
    bands are a cell or two high, so they weigh little in the loss; the whole
    line is marked so the gaps to the lines above and below count as well."""
    h, w = shape
    zone = np.zeros((h // stride, w // stride), np.uint8)
    for q in quads:
        if quad_height(q) < max_height:
            fill_cells(zone, q, stride)
    return zone


# Half-width of an end zone along the line, in line heights, centred on the
# target band's end (which sits DecodeSpec.shrink_ends inside the ink's end).
END_REACH = 0.6


def end_zone_map(quads: list[np.ndarray], shape: tuple[int, int], stride: int, spec: DecodeSpec) -> np.ndarray:
    """Map (H/stride, W/stride) uint8 {0,1} of the pixels around each link
    line's two ends, across the line's full height, for quads in input pixels
    (as ``rasterize_targets`` takes them).

    The reader lives or dies by where a line ends (a cut-short quad reads a
    cut-short URL), while IoU-style losses barely see the few pixels there;
    training can weight them with this map."""
    h, w = shape
    zone = np.zeros((h // stride, w // stride), np.uint8)
    for q in quads:
        tl, tr, br, bl = np.asarray(q, np.float32).reshape(4, 2)
        axis = (tr + br - tl - bl) / 2
        length = float(np.linalg.norm(axis))
        if length < 1e-6:
            continue
        reach = axis / length * END_REACH * quad_height(q)
        band = shrink_quad(q, spec)
        for top, bottom, end in ((tl, bl, (band[0] + band[3]) / 2), (tr, br, (band[1] + band[2]) / 2)):
            # Across the full line height: the top and bottom edges' offsets from the mid-line.
            mid = (top + bottom) / 2
            up, down = top - mid, bottom - mid
            fill_cells(zone, np.stack([end - reach + up, end + reach + up, end + reach + down, end - reach + down]), stride)
    return zone
