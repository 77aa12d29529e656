"""Words for English-like prose, and distractors that look like links but are not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_app.urls import WORD_LIST

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
