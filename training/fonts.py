"""Discover the typefaces the page generator draws with.

Fonts come from Debian packages installed by scripts/setup-system.sh; the
families below are looked up with fontconfig, so a machine with fewer
packages still works with what it has (and `python -m training.fonts` says
which were found).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path

# Family name -> role on a page. Only Latin text faces: symbol, display and
# non-Latin families would teach the model shapes no printed URL has.
FAMILIES: dict[str, str] = {
    # book serifs
    "TeX Gyre Termes": "serif", "TeX Gyre Pagella": "serif", "TeX Gyre Bonum": "serif",
    "TeX Gyre Schola": "serif", "Nimbus Roman": "serif", "P052": "serif", "C059": "serif",
    "URW Bookman": "serif", "Latin Modern Roman": "serif", "EB Garamond": "serif",
    "Linux Libertine O": "serif", "DejaVu Serif": "serif", "Liberation Serif": "serif",
    "Noto Serif": "serif", "Caladea": "serif", "Roboto Slab": "serif",
    # sans
    "DejaVu Sans": "sans", "Liberation Sans": "sans", "Noto Sans": "sans", "Lato": "sans",
    "Open Sans": "sans", "Roboto": "sans", "Roboto Condensed": "sans", "Carlito": "sans",
    "TeX Gyre Heros": "sans", "Nimbus Sans": "sans", "Nimbus Sans Narrow": "sans",
    "URW Gothic": "sans", "TeX Gyre Adventor": "sans", "Latin Modern Sans": "sans",
    "Linux Biolinum O": "sans",
    # monospace, for code-style links
    "DejaVu Sans Mono": "mono", "Liberation Mono": "mono", "Nimbus Mono PS": "mono",
    "TeX Gyre Cursor": "mono", "Latin Modern Mono": "mono", "Inconsolata": "mono",
    "Fira Code": "mono", "Fira Mono": "mono", "JetBrains Mono": "mono", "Hack": "mono",
    "Noto Sans Mono": "mono", "Noto Mono": "mono",
}


@dataclass(frozen=True)
class FontFace:
    path: str
    family: str
    role: str  # serif | sans | mono
    italic: bool
    bold: bool


@dataclass(frozen=True)
class FontFamily:
    name: str
    role: str
    regular: FontFace
    italic: FontFace | None
    bold: FontFace | None


def _style_flags(style: str) -> tuple[bool, bool, bool]:
    s = style.lower()
    italic = "italic" in s or "oblique" in s or "slanted" in s
    bold = "bold" in s and "semi" not in s and "extra" not in s
    plain = s in ("regular", "book", "roman", "normal", "italic", "bold", "bold italic", "oblique", "bold oblique")
    return italic, bold, plain


def discover_fonts() -> list[FontFamily]:
    """Families from FAMILIES that fontconfig finds, each with a regular face."""
    try:
        out = subprocess.run(
            ["fc-list", "--format", "%{file}|%{family[0]}|%{style[0]}\n"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError("fontconfig (fc-list) is needed to find fonts: run scripts/setup-system.sh") from exc
    faces: dict[str, dict[tuple[bool, bool], FontFace]] = {}
    for line in sorted(set(out.splitlines())):
        parts = line.split("|")
        if len(parts) != 3:
            continue
        path, family, style = parts
        if family not in FAMILIES or not path.endswith((".ttf", ".otf")):
            continue
        italic, bold, plain = _style_flags(style)
        if not plain:
            continue
        key = (italic, bold)
        face = FontFace(path, family, FAMILIES[family], italic, bold)
        # Prefer .otf over .ttf duplicates for a stable, single choice.
        prev = faces.setdefault(family, {}).get(key)
        if prev is None or path < prev.path:
            faces[family][key] = face
    families = []
    for name in sorted(faces):
        f = faces[name]
        if (False, False) not in f:
            continue
        families.append(FontFamily(name, FAMILIES[name], f[(False, False)], f.get((True, False)), f.get((False, True))))
    if not families:
        raise RuntimeError("no usable fonts found: run scripts/setup-system.sh to install the font packages")
    return families


MANIFEST = "fonts.json"


def copy_fonts(families: list[FontFamily], folder: Path) -> Path:
    """The families' files and a manifest naming them, in ``folder``: the
    generator's fonts for a machine without fontconfig or the font packages
    (``families_from_folder`` reads them back)."""
    names = [Path(face.path).name for f in families for face in (f.regular, f.italic, f.bold) if face]
    if len(set(names)) != len(names):
        raise RuntimeError("two font faces share a file name; cannot copy them into one folder")
    folder.mkdir(parents=True, exist_ok=True)

    def moved(face: FontFace | None) -> FontFace | None:
        if face is None:
            return None
        name = Path(face.path).name
        shutil.copyfile(face.path, folder / name)
        return replace(face, path=name)

    rows = [asdict(replace(f, regular=moved(f.regular), italic=moved(f.italic), bold=moved(f.bold))) for f in families]
    (folder / MANIFEST).write_text(json.dumps(rows, indent=1) + "\n")
    return folder / MANIFEST


def families_from_folder(folder: Path) -> list[FontFamily]:
    """The families ``copy_fonts`` wrote into ``folder``."""
    def face(d: dict | None) -> FontFace | None:
        return None if d is None else FontFace(**{**d, "path": str(folder / d["path"])})

    rows = json.loads((folder / MANIFEST).read_text())
    return [FontFamily(r["name"], r["role"], face(r["regular"]), face(r["italic"]), face(r["bold"])) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description="List the fonts the page generator found.")
    ap.add_argument("--copy-to", type=Path, help="also copy them, with a manifest, into this folder "
                    "(for a machine without the font packages: training.train_device)")
    args = ap.parse_args()
    fams = discover_fonts()
    if args.copy_to:
        print(f"copied to {copy_fonts(fams, args.copy_to)}")
    for f in fams:
        styles = "R" + ("I" if f.italic else "-") + ("B" if f.bold else "-")
        print(f"{f.role:5s} {styles} {f.name:22s} {Path(f.regular.path).name}")
    n_faces = sum(1 + (f.italic is not None) + (f.bold is not None) for f in fams)
    print(f"{len(fams)} families, {n_faces} faces")


if __name__ == "__main__":
    main()
