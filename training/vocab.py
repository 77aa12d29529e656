"""Words for English-like prose, and distractors that look like links but are not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_app.urls import WORD_LIST, normalize_url

# The commonest English words, so that prose has a natural rhythm of short
# function words around the dictionary's longer ones.
COMMON = (
    "the of and to a in is it you that he was for on are with as I his they be at one have this "
    "from or had by not word but what some we can out other were all there when up use your how "
    "said an each she which do their time if will way about many then them write would like so "
    "these her long make thing see him two has look more day could go come did number sound no "
    "most people my over know water than call first who may down side been now find any new work "
    "part take get place made live where after back little only round man year came show every "
    "good me give our under name very through just form sentence great think say help low line "
    "differ turn cause much mean before move right boy old too same tell does set three want air "
    "well also play small end put home read hand port large spell add even land here must big high "
    "such follow act why ask men change went light kind off need house picture try us again animal "
    "point page letter mother answer found study still learn should world data model image network "
    "training layer function value system result method figure table section chapter source code"
).split()

DISTRACTORS = (
    "e.g.", "i.e.", "etc.", "Fig. 3.2", "Fig. 12", "Table 4.1", "Eq. (7)", "pp. 112-118", "vol. 3",
    "model.json", "config.yaml", "setup.py", "index.html", "README.md", "train.csv", "v2.0.1",
    "v1.4", "3.14159", "0.95", "1,024", "12.5%", "2021-03-14", "14.03.2021", "3/4", "and/or",
    "input/output", "read/write", "TCP/IP", "A.I.", "U.S.", "Ph.D.", "a.m.", "p.m.", "No. 5",
    "sec. 2.3", "ch. 7", "x.shape", "np.array", "tf.keras", "os.path.join", "self.name",
    "jane.doe@example.com", "info@company.org", "$4.99", "10:30", "ISBN 978-0-13-468599-1",
)


@dataclass
class Vocabulary:
    words: list[str]
    common: list[str] = field(default_factory=lambda: list(COMMON))

    @classmethod
    def load(cls, path: Path = WORD_LIST) -> "Vocabulary":
        words: list[str] = []
        if path.is_file():
            for w in path.read_text(encoding="utf-8", errors="ignore").split():
                if w.isascii() and w.isalpha() and w.islower() and 2 <= len(w) <= 12:
                    words.append(w)
        if len(words) < 1000:  # no word list installed: prose from the common words alone
            words = list(COMMON)
        return cls(words=sorted(set(words)))

    def word(self, rng: np.random.Generator) -> str:
        if rng.random() < 0.55:
            return self.common[rng.integers(len(self.common))]
        return self.words[rng.integers(len(self.words))]

    def sentence(self, rng: np.random.Generator, n: int) -> list[str]:
        ws = [self.word(rng) for _ in range(n)]
        ws[0] = ws[0].capitalize()
        for i in range(1, n - 1):
            r = rng.random()
            if r < 0.06:
                ws[i] += ","
            elif r < 0.075:
                ws[i] = ws[i].capitalize()
        ws[-1] += "." if rng.random() < 0.85 else rng.choice([";", ":", "?", "!"])
        return ws

    def distractor(self, rng: np.random.Generator) -> str:
        return DISTRACTORS[rng.integers(len(DISTRACTORS))]

    def code_token(self, rng: np.random.Generator) -> str:
        """A monospace token of technical prose that is not a link: a path, a
        file or package name, an option, a call. Real documents set these in
        the same fonts as their URLs, so the detector must learn the difference
        from the text itself (an earlier model fired on them)."""
        for _ in range(8):
            t = _CODE_KINDS[int(rng.integers(len(_CODE_KINDS)))](self, rng)
            # The rule that decides what a link is decides what a negative is.
            if normalize_url(t) is None:
                return t
        return self.word(rng)

    def command_line(self, rng: np.random.Generator) -> list[str]:
        """Tokens of one shell or code line, for code blocks."""
        out = ["$"] if rng.random() < 0.3 else []
        out.append(_pick(rng, COMMANDS))
        for _ in range(int(rng.integers(1, 5))):
            out.append(self.code_token(rng) if rng.random() < 0.7 else self.word(rng).lower())
        return out

    def _ident(self, rng: np.random.Generator) -> str:
        w = self.word(rng).lower()
        r = rng.random()
        if r < 0.3:
            w += _pick(rng, ["_", "-"]) + self.word(rng).lower()
        elif r < 0.4:
            w += str(int(rng.integers(0, 20)))
        return w


COMMANDS = ["sudo", "apt-get", "apt", "cd", "ls", "make", "cp", "mv", "git", "python3", "R", "dpkg", "mkdir",
            "tar", "gcc", "chmod", "echo", "export", "sbuild", "debuild", "cat", "grep", "ssh", "rm", "pip",
            "install", "./configure", "gs", "gnuplot", "dch", "lintian"]
CODE_EXTS = ["py", "c", "h", "sh", "conf", "txt", "json", "yaml", "cfg", "deb", "tar.gz", "so", "R", "Rd",
             "log", "list", "mk", "in", "ini", "tex", "el", "pl", "rules", "dsc", "changes", "1", "8"]
PATH_ROOTS = ["/usr/share/doc", "/etc", "/usr/local", "/var/lib", "/srv", "/opt", "~", "~/.config", "/tmp",
              "/usr/lib", "/usr/bin", "/var/cache/apt", "/dev", "/proc", "/boot", "/usr/share", "debian", "src", "."]


def _pick(rng: np.random.Generator, seq: list[str]) -> str:
    return seq[int(rng.integers(len(seq)))]


def _path(v: Vocabulary, rng: np.random.Generator) -> str:
    parts = [_pick(rng, PATH_ROOTS)] + [v._ident(rng) for _ in range(int(rng.integers(0, 4)))]
    if rng.random() < 0.3:
        parts.append(v._ident(rng) + "." + _pick(rng, CODE_EXTS))
    p = "/".join(parts)
    return p + "/" if rng.random() < 0.25 else p


def _file(v: Vocabulary, rng: np.random.Generator) -> str:
    name = v._ident(rng) + "." + _pick(rng, CODE_EXTS)
    return "." + name if rng.random() < 0.1 else name


def _package(v: Vocabulary, rng: np.random.Generator) -> str:
    w = v.word(rng).lower()
    return _pick(rng, [f"lib{w}-dev", f"python3-{w}", f"{w}-{v.word(rng).lower()}", f"{w}-utils", f"{w}{int(rng.integers(2, 12))}",
                       f"{w}-doc", f"r-cran-{w}"])


def _option(v: Vocabulary, rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.35:
        return "-" + "".join(rng.choice(list("abcdefhijklmnopqrstuvwxyzLOR"), size=int(rng.integers(1, 3))))
    if r < 0.7:
        return "--" + v._ident(rng)
    return f"--{v._ident(rng)}={_pick(rng, [v._ident(rng), str(int(rng.integers(0, 100)))])}"


def _call(v: Vocabulary, rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.4:
        return f"{v._ident(rng)}({int(rng.integers(1, 9))})"  # a man page reference
    if r < 0.7:
        return v._ident(rng).replace("-", "_") + "()"
    return ".".join(v.word(rng).lower() for _ in range(int(rng.integers(2, 4)))) + ("()" if rng.random() < 0.5 else "")


def _misc(v: Vocabulary, rng: np.random.Generator) -> str:
    r = rng.random()
    w = v.word(rng)
    if r < 0.25:
        return "$" + w.upper()
    if r < 0.5:
        return f"{w.upper()}_{v.word(rng).upper()}={v._ident(rng)}"
    if r < 0.7:
        return ".".join(str(int(rng.integers(0, 20))) for _ in range(int(rng.integers(2, 4))))
    if r < 0.85:
        return f"{v._ident(rng)}@{v.word(rng).lower()}.org"  # an address is not a link
    return f"<{v._ident(rng)}>"


_CODE_KINDS = [_path, _path, _file, _file, _package, _option, _call, _misc]
