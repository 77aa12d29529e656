"""Lay out and draw a region of a printed page, with exact link labels.

Everything is drawn with PIL at the canvas scale; every link run's quad is
measured from the same font metrics and positions the glyphs were drawn at,
so labels and pixels cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training.fonts import FontFace, FontFamily
from training.linkgen import generate_url
from training.vocab import Vocabulary

Color = tuple[int, int, int]


@dataclass
class LinkDraft:
    """A link as laid out on the canvas: its URL and one quad per printed line."""

    url: str
    kind: str
    quads: list[np.ndarray] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # the URL's characters on each printed line
    style: dict = field(default_factory=dict)  # italic, bold, mono, underline, color, inverted, context


@dataclass
class PageDraft:
    image: Image.Image  # RGB canvas
    links: list[LinkDraft]
    text_quads: list[np.ndarray]  # every drawn word/link run, for the auxiliary text map
    body_xheight: float


@dataclass
class _Run:
    text: str
    font: ImageFont.FreeTypeFont
    face: FontFace
    color: Color
    link: int | None = None  # index into links
    underline: bool = False
    hyphen_added: bool = False  # a typesetter's hyphen at a line break, not part of the URL


@dataclass
class _Style:
    face: FontFace
    size: int
    color: Color


class FontCache:
    """PIL font objects and their vertical metrics, per (path, size)."""

    def __init__(self) -> None:
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self._metrics: dict[tuple[str, int], tuple[int, int]] = {}
        self._xratio: dict[str, float] = {}
        self._lengths: dict[tuple[int, str], float] = {}

    def length(self, font: ImageFont.FreeTypeFont, text: str) -> float:
        """font.getlength, memoised: layout asks for the same words many times."""
        key = (id(font), text)
        v = self._lengths.get(key)
        if v is None:
            v = font.getlength(text)
            self._lengths[key] = v
        return v

    def font(self, face: FontFace, size: int) -> ImageFont.FreeTypeFont:
        key = (face.path, size)
        f = self._fonts.get(key)
        if f is None:
            f = ImageFont.truetype(face.path, size)
            self._fonts[key] = f
        return f

    def xheight_ratio(self, face: FontFace) -> float:
        r = self._xratio.get(face.path)
        if r is None:
            f = self.font(face, 100)
            l, t, rr, b = f.getbbox("x", anchor="ls")
            r = max(0.3, -t / 100.0)
            self._xratio[face.path] = r
        return r

    def vmetrics(self, face: FontFace, size: int) -> tuple[int, int]:
        """(top, bottom) offsets from the baseline that cover every glyph a URL uses."""
        key = (face.path, size)
        m = self._metrics.get(key)
        if m is None:
            f = self.font(face, size)
            t = f.getbbox("Hdlfkh/|({[@#%&ÅÉ", anchor="ls")[1]
            b = f.getbbox("gjpqy/|_)}]", anchor="ls")[3]
            m = (int(t), int(b))
            self._metrics[key] = m
        return m


def _pick(rng: np.random.Generator, seq: list) -> object:
    return seq[int(rng.integers(len(seq)))]


class PageRenderer:
    def __init__(self, families: list[FontFamily], vocab: Vocabulary, hide_links: bool = False) -> None:
        # hide_links draws link glyphs in the paper colour (same layout, same
        # random draws): the difference of the two renders is the link ink.
        self.hide_links = hide_links
        self.families = families
        self.by_role = {r: [f for f in families if f.role == r] for r in ("serif", "sans", "mono")}
        self.vocab = vocab
        self.fonts = FontCache()

    # ---------------------------------------------------------------- styles
    def _family(self, rng: np.random.Generator, role: str) -> FontFamily:
        pool = self.by_role.get(role) or self.families
        return _pick(rng, pool)  # type: ignore[return-value]

    def _size_for_xheight(self, face: FontFace, xh: float) -> int:
        return max(6, int(round(xh / self.fonts.xheight_ratio(face))))

    # ---------------------------------------------------------------- render
    def render(self, rng: np.random.Generator, width: int, height: int, xheight: float, link_rate: float = 0.25,
               scheme_break_p: float = 0.0) -> PageDraft:
        paper = _paper_color(rng)
        img = Image.new("RGB", (width, height), paper)
        draw = ImageDraw.Draw(img)
        links: list[LinkDraft] = []
        text_quads: list[np.ndarray] = []

        body_role = rng.choice(["serif", "sans", "mono"], p=[0.58, 0.36, 0.06])
        body = self._family(rng, str(body_role))
        code = self._family(rng, "mono")
        ink = _ink_color(rng)
        size = self._size_for_xheight(body.regular, xheight)
        leading = float(rng.uniform(1.12, 1.6))
        margin = int(rng.uniform(0.0, 3.0) * size)
        n_cols = 2 if (width - 2 * margin) > 50 * size and rng.random() < 0.45 else 1
        gutter = int(rng.uniform(1.5, 3.0) * size)
        col_w = (width - 2 * margin - (n_cols - 1) * gutter) // n_cols
        justify = rng.random() < 0.6
        link_style = _link_style(rng)

        ctx = _Ctx(draw=draw, rng=rng, links=links, text_quads=text_quads, ink=ink, paper=paper,
                   scheme_break_p=scheme_break_p)
        y_start = int(rng.uniform(-1.5, 2.0) * size)
        for c in range(n_cols):
            x0 = margin + c * (col_w + gutter)
            y = y_start
            if c == 0 and rng.random() < 0.3:  # running head
                y = self._block(ctx, x0, y, col_w, height, body, int(size * 0.8), leading, "head", link_style, code, justify=False, link_rate=0.0)
                y += int(size * rng.uniform(0.8, 2.0))
            while y < height:
                kind = rng.choice(
                    ["para", "heading", "bullets", "code", "refs", "footnote", "boxed"],
                    p=[0.5, 0.07, 0.1, 0.06, 0.12, 0.08, 0.07],
                )
                y = self._block(ctx, x0, y, col_w, height, body, size, leading, str(kind), link_style, code, justify, link_rate)
                y += int(size * leading * rng.uniform(0.3, 1.2))
        return PageDraft(image=img, links=links, text_quads=text_quads, body_xheight=xheight)

    def _block(self, ctx: "_Ctx", x0: int, y: int, width: int, max_y: int, body: FontFamily, size: int,
               leading: float, kind: str, link_style: dict, code: FontFamily, justify: bool, link_rate: float) -> int:
        rng = ctx.rng
        fam, bsize, color, indent = body, size, ctx.ink, 0
        inverted = False
        words: list[list[_Run]] = []
        if kind == "heading":
            bsize = int(size * rng.uniform(1.2, 1.8))
            face = body.bold or body.regular
            words = [[_Run(w, self.fonts.font(face, bsize), face, color)] for w in self.vocab.sentence(rng, int(rng.integers(2, 7)))]
            words[-1][0].text = words[-1][0].text.rstrip(".;:?!")
            return self._flow(ctx, words, x0, y, width, max_y, bsize, leading, False, indent=0)
        if kind == "head":
            face = body.italic if body.italic and rng.random() < 0.5 else body.regular
            words = [[_Run(w, self.fonts.font(face, bsize), face, color)] for w in self.vocab.sentence(rng, int(rng.integers(2, 6)))]
            words.append([_Run(str(int(rng.integers(1, 600))), self.fonts.font(face, bsize), face, color)])
            return self._flow(ctx, words, x0, y, width, max_y, bsize, leading, False, indent=0)
        if kind == "footnote":
            bsize = max(6, int(size * rng.uniform(0.75, 0.9)))
        if kind == "code":
            fam = code
        if kind == "boxed":
            inverted = rng.random() < 0.6
            box_color = _dark_color(rng) if inverted else _tint_color(rng, ctx.paper)
            color = _light_color(rng) if inverted else ctx.ink
            pad = int(size * 0.8)
            lines_est = int(rng.integers(2, 7))
            h = int(lines_est * size * leading + 2 * pad)
            ctx.draw.rectangle([x0, y, x0 + width, y + h], fill=box_color)
            words = self._prose(ctx, fam, bsize, color, link_style, max(0.1, link_rate * 2), n_words=int(lines_est * width / (size * 3.2)), inverted=inverted)
            self._flow(ctx, words, x0 + pad, y + pad, width - 2 * pad, min(max_y, y + h - pad // 2), bsize, leading, justify, indent=0)
            return y + h
        if kind == "refs":
            yy = y
            for i in range(int(rng.integers(1, 5))):
                words = [[_Run(f"[{int(rng.integers(1, 80))}]", self.fonts.font(fam.regular, bsize), fam.regular, color)]]
                words += self._prose(ctx, fam, bsize, color, link_style, 0.0, n_words=int(rng.integers(4, 14)))
                words.append(self._link_token(ctx, fam, bsize, color, link_style, context="reference"))
                yy = self._flow(ctx, words, x0, yy, width, max_y, bsize, leading, False, indent=int(bsize * 1.5))
                if yy >= max_y:
                    break
            return yy
        if kind == "bullets":
            yy = y
            for i in range(int(rng.integers(2, 5))):
                bullet = _pick(rng, ["•", "–", "*", f"{i + 1}."])
                words = [[_Run(str(bullet), self.fonts.font(fam.regular, bsize), fam.regular, color)]]
                words += self._prose(ctx, fam, bsize, color, link_style, link_rate * 2.5, n_words=int(rng.integers(3, 20)))
                yy = self._flow(ctx, words, x0 + bsize, yy, width - bsize, max_y, bsize, leading, False, indent=int(bsize * 1.2))
                if yy >= max_y:
                    break
            return yy
        n = int(rng.integers(15, 120)) if kind != "code" else int(rng.integers(2, 8))
        words = self._prose(ctx, fam, bsize, color, link_style, link_rate * (1.5 if kind == "footnote" else 1.0), n_words=n)
        if kind == "footnote":
            words.insert(0, [_Run(str(int(rng.integers(1, 30))), self.fonts.font(fam.regular, bsize), fam.regular, color)])
        indent = int(bsize * rng.uniform(0, 2.5)) if kind == "para" else 0
        return self._flow(ctx, words, x0, y, width, max_y, bsize, leading, justify and kind == "para", first_indent=indent)

    def _prose(self, ctx: "_Ctx", fam: FontFamily, size: int, color: Color, link_style: dict, link_rate: float,
               n_words: int, inverted: bool = False) -> list[list[_Run]]:
        rng = ctx.rng
        out: list[list[_Run]] = []
        face = fam.regular
        font = self.fonts.font(face, size)
        while len(out) < n_words:
            r = rng.random()
            if r < link_rate:
                out.append(self._link_token(ctx, fam, size, color, link_style, inverted=inverted))
            elif r < link_rate + 0.03:
                out.append([_Run(self.vocab.distractor(rng), font, face, color)])
            else:
                for w in self.vocab.sentence(rng, int(rng.integers(4, 16))):
                    f2, fc = font, face
                    if rng.random() < 0.03 and fam.italic:
                        fc = fam.italic
                        f2 = self.fonts.font(fc, size)
                    out.append([_Run(w, f2, fc, color)])
        return out

    def _link_token(self, ctx: "_Ctx", fam: FontFamily, size: int, color: Color, link_style: dict,
                    context: str | None = None, inverted: bool = False) -> list[_Run]:
        rng = ctx.rng
        url = generate_url(rng, self.vocab)
        face = fam.regular
        style = dict(link_style)
        if rng.random() < 0.3:  # per-link variation on top of the page's habit
            style = _link_style(rng)
        if style["mono"]:
            mono = self._family(rng, "mono")
            face = mono.regular
            if style["bold"] and mono.bold:
                face = mono.bold
        elif style["italic"] and fam.italic:
            face = fam.italic
        elif style["bold"] and fam.bold:
            face = fam.bold
        lsize = size if not style["mono"] else max(6, int(size * rng.uniform(0.85, 1.0)))
        lcolor = color if not style["colored"] or inverted else _link_color(rng)
        link_font = self.fonts.font(face, lsize)
        idx = len(ctx.links)
        ctx.links.append(LinkDraft(
            url=url.text, kind=url.kind,
            style={"italic": face.italic, "bold": face.bold, "mono": face.role == "mono", "underline": style["underline"],
                   "colored": lcolor != color, "inverted": inverted, "context": context or style["context"]},
        ))
        body_font = self.fonts.font(fam.regular, size)
        runs = [_Run(url.text, link_font, face, lcolor, link=idx, underline=style["underline"])]
        ctxt = context or style["context"]
        if ctxt == "parens":
            runs = [_Run("(", body_font, fam.regular, color)] + runs + [_Run(")" + _pick(rng, ["", ".", ",", ";"]), body_font, fam.regular, color)]
        elif ctxt == "angle":
            runs = [_Run("<", body_font, fam.regular, color)] + runs + [_Run(">", body_font, fam.regular, color)]
        elif ctxt == "sentence_end":
            runs.append(_Run(str(_pick(rng, [".", ",", ";", ":"])), body_font, fam.regular, color))
        elif ctxt == "quoted":
            runs = [_Run("“", body_font, fam.regular, color)] + runs + [_Run("”", body_font, fam.regular, color)]
        return runs

    # ---------------------------------------------------------------- flow
    def _flow(self, ctx: "_Ctx", tokens: list[list[_Run]], x0: int, y: int, width: int, max_y: int, size: int,
              leading: float, justify: bool, indent: int = 0, first_indent: int = 0) -> int:
        """Break tokens into lines of ``width`` and draw them; returns the next y."""
        rng = ctx.rng
        space = max(2.0, size * 0.27)
        line_h = size * leading
        lines: list[list[tuple[float, _Run]]] = []
        cur: list[list[_Run]] = []
        cur_w = 0.0
        avail = width - first_indent
        queue = list(tokens)
        while queue:
            tok = queue.pop(0)
            tw = sum(self.fonts.length(r.font, r.text) for r in tok)
            need = tw + (space if cur else 0)
            if cur_w + need <= avail:
                cur.append(tok)
                cur_w += need
                continue
            # A link that does not fit is broken across lines, as books do.
            li = next((i for i, r in enumerate(tok) if r.link is not None), None)
            room = avail - cur_w - (space if cur else 0)
            # Real manuals often break right after the scheme ("https:" ending
            # a line, "//host/..." opening the next); a probability of 0
            # draws nothing, so default pages stay byte for byte the same.
            # (Only after other words: a scheme alone on a line of its own is no typesetter's choice.)
            at_scheme = li is not None and bool(cur) and ctx.scheme_break_p > 0 and rng.random() < ctx.scheme_break_p
            if li is not None and (room > size * 4 or tw > avail or at_scheme) and rng.random() < 0.8:
                head, tail = self._split_link(ctx, tok, li, room, at_scheme)
                if head is not None:
                    cur.append(head)
                    lines.append(self._place(cur, avail, space, justify))
                    cur, cur_w, avail = [], 0.0, width - indent
                    queue.insert(0, tail)
                    continue
            if cur:
                lines.append(self._place(cur, avail, space, justify))
                cur, cur_w, avail = [], 0.0, width - indent
                queue.insert(0, tok)
            else:  # a single token wider than the column: let it overflow
                cur.append(tok)
                lines.append(self._place(cur, avail, space, False))
                cur, cur_w, avail = [], 0.0, width - indent
        if cur:
            lines.append(self._place(cur, avail, space, False))
        for i, placed in enumerate(lines):
            base = y + size * 0.9 + i * line_h
            if base - size > max_y:
                return int(base)
            xo = x0 + (first_indent if i == 0 else indent)
            for x, run in placed:
                self._draw_run(ctx, xo + x, base, run)
        return int(y + len(lines) * line_h)

    def _split_link(self, ctx: "_Ctx", tok: list[_Run], li: int, room: float,
                    at_scheme: bool = False) -> tuple[list[_Run] | None, list[_Run]]:
        rng = ctx.rng
        link = tok[li]
        pre_w = sum(self.fonts.length(r.font, r.text) for r in tok[:li])
        text = link.text
        if at_scheme:
            return self._split_at_scheme(ctx, tok, li, room, pre_w)
        hyphen = rng.random() < 0.25
        hyph_w = self.fonts.length(link.font, "-") if hyphen else 0.0
        fit = 0
        for k in range(1, len(text)):
            if pre_w + self.fonts.length(link.font, text[:k]) + hyph_w > room:
                break
            fit = k
        if fit < 3:
            return None, tok
        mode = rng.random()
        cut = fit
        if mode < 0.75:  # prefer a break after / . - as typesetters do
            for k in range(fit, 2, -1):
                if text[k - 1] in "/.-_?&":
                    cut = k
                    break
        return _break_link(ctx, tok, li, cut, hyphen and not text[:cut].endswith("-"))

    def _split_at_scheme(self, ctx: "_Ctx", tok: list[_Run], li: int, room: float,
                         pre_w: float) -> tuple[list[_Run] | None, list[_Run]]:
        """Break a link after its scheme's colon or its two slashes, where it fits."""
        link = tok[li]
        text = link.text
        colon = text.find("://")
        if colon < 2:
            return None, tok
        cut = colon + 1 if ctx.rng.random() < 0.5 else colon + 3
        if pre_w + self.fonts.length(link.font, text[:cut]) > room:
            return None, tok
        return _break_link(ctx, tok, li, cut, hyphen=False)

    def _place(self, tokens: list[list[_Run]], avail: float, space: float, justify: bool) -> list[tuple[float, _Run]]:
        widths = [sum(self.fonts.length(r.font, r.text) for r in t) for t in tokens]
        gap = space
        if justify and len(tokens) > 1:
            gap = max(space, (avail - sum(widths)) / (len(tokens) - 1))
            gap = min(gap, space * 3)
        out: list[tuple[float, _Run]] = []
        x = 0.0
        for t, w in zip(tokens, widths):
            xx = x
            for r in t:
                out.append((xx, r))
                xx += self.fonts.length(r.font, r.text)
            x += w + gap
        return out

    def _draw_run(self, ctx: "_Ctx", x: float, base: float, run: _Run) -> None:
        if not run.text:
            return
        fill = ctx.paper if (self.hide_links and run.link is not None) else run.color
        ctx.draw.text((x, base), run.text, font=run.font, fill=fill, anchor="ls")
        l, t, r, b = run.font.getbbox(run.text, anchor="ls")
        top, bottom = self.fonts.vmetrics(run.face, run.font.size)
        top, bottom = min(top, t), max(bottom, b)
        if run.underline:
            thick = max(1, run.font.size // 16)
            uy = int(round(base + max(1, run.font.size * 0.1)))
            ctx.draw.rectangle([int(x + l), uy, max(int(x + l), int(x + r)), uy + thick - 1], fill=fill)
            bottom = max(bottom, int(uy + thick - base) + 1)
        quad = np.array([[x + l, base + top], [x + r, base + top], [x + r, base + bottom], [x + l, base + bottom]], np.float32)
        ctx.text_quads.append(quad)
        if run.link is not None:
            ctx.links[run.link].quads.append(quad)
            ctx.links[run.link].parts.append(run.text[:-1] if run.hyphen_added else run.text)


@dataclass
class _Ctx:
    draw: ImageDraw.ImageDraw
    rng: np.random.Generator
    links: list[LinkDraft]
    text_quads: list[np.ndarray]
    ink: Color
    paper: Color
    scheme_break_p: float = 0.0


def _break_link(ctx: _Ctx, tok: list[_Run], li: int, cut: int, hyphen: bool) -> tuple[list[_Run], list[_Run]]:
    """``tok`` broken inside its link run ``li`` after ``cut`` characters (with a
    typesetter's hyphen): (the head that ends this line, the rest for the next)."""
    link = tok[li]
    first = _Run(link.text[:cut] + ("-" if hyphen else ""), link.font, link.face, link.color, link.link, link.underline,
                 hyphen)
    second = _Run(link.text[cut:], link.font, link.face, link.color, link.link, link.underline)
    ctx.links[link.link].style["wrapped"] = True
    ctx.links[link.link].style.setdefault("break_hyphen", hyphen)
    return tok[:li] + [first], [second] + tok[li + 1:]


def _link_style(rng: np.random.Generator) -> dict:
    return {
        "italic": rng.random() < 0.2,
        "bold": rng.random() < 0.1,
        "mono": rng.random() < 0.2,
        "underline": rng.random() < 0.15,
        "colored": rng.random() < 0.15,
        "context": str(rng.choice(["inline", "parens", "sentence_end", "angle", "quoted"], p=[0.45, 0.25, 0.2, 0.05, 0.05])),
    }


def _paper_color(rng: np.random.Generator) -> Color:
    base = rng.uniform(205, 255)
    # Real paper is grey, white or warm (cream, newsprint); never green or violet.
    tint = rng.normal(0, 2, 3) + np.array([3, 1, -8]) * rng.random()
    return tuple(int(np.clip(base + t, 160, 255)) for t in tint)  # type: ignore[return-value]


def _ink_color(rng: np.random.Generator) -> Color:
    v = rng.uniform(0, 70)
    return tuple(int(np.clip(v + rng.normal(0, 5), 0, 255)) for _ in range(3))  # type: ignore[return-value]


def _link_color(rng: np.random.Generator) -> Color:
    return _pick(rng, [(20, 40, 170), (0, 0, 200), (30, 90, 160), (140, 20, 20), (20, 110, 40), (100, 30, 130)])  # type: ignore[return-value]


def _dark_color(rng: np.random.Generator) -> Color:
    return _pick(rng, [(25, 25, 30), (20, 40, 90), (90, 20, 30), (30, 70, 40), (60, 60, 70), (0, 90, 110)])  # type: ignore[return-value]


def _light_color(rng: np.random.Generator) -> Color:
    v = int(rng.uniform(220, 255))
    return (v, v, int(v * rng.uniform(0.9, 1.0)))


def _tint_color(rng: np.random.Generator, paper: Color) -> Color:
    return tuple(int(np.clip(c - rng.uniform(10, 45) * w, 0, 255)) for c, w in zip(paper, rng.uniform(0.3, 1.0, 3)))  # type: ignore[return-value]
