"""Realistic printed URLs: schemes, hosts, public suffixes, paths, queries."""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from training.vocab import Vocabulary

SUFFIXES = (
    ["com"] * 10 + ["org"] * 6 + ["io"] * 4 + ["net"] * 3 + ["dev", "edu", "gov", "co.uk", "de", "fr", "ai",
    "app", "info", "me", "co", "us", "ca", "eu", "nl", "ch", "se", "jp", "com.au", "ac.uk", "org.uk", "it",
    "es", "pl", "ru", "in", "tech", "blog", "xyz", "tv", "ly", "sh", "gg", "science", "cloud", "page"]
)
SUBDOMAINS = ["docs", "blog", "api", "en", "developer", "developers", "cdn", "static", "news", "help",
              "support", "m", "www2", "research", "lab", "app", "shop", "wiki", "git", "download"]
EXTS = ["html", "htm", "pdf", "php", "md", "txt", "zip", "tar.gz", "aspx", "json", "png", "jpg", "ipynb"]
ALNUM = string.ascii_lowercase + string.digits
KINDS = ("https", "http", "www", "bare", "ftp")
KIND_P = (0.42, 0.18, 0.18, 0.17, 0.05)


@dataclass(frozen=True)
class GeneratedUrl:
    text: str  # as printed
    kind: str  # https | http | www | bare | ftp


def _token(rng: np.random.Generator, vocab: Vocabulary) -> str:
    r = rng.random()
    if r < 0.55:
        return vocab.word(rng).lower()
    if r < 0.75:
        return "-".join(vocab.word(rng).lower() for _ in range(rng.integers(2, 4)))
    if r < 0.85:
        return "_".join(vocab.word(rng).lower() for _ in range(2))
    if r < 0.93:
        return "".join(rng.choice(list(ALNUM), size=rng.integers(4, 12)))
    t = vocab.word(rng).capitalize() + vocab.word(rng).capitalize()
    return t


def _host(rng: np.random.Generator, vocab: Vocabulary, kind: str) -> str:
    name = vocab.word(rng).lower()
    r = rng.random()
    if r < 0.25:
        name += vocab.word(rng).lower()
    elif r < 0.4:
        name += "-" + vocab.word(rng).lower()
    elif r < 0.5:
        name = "".join(rng.choice(list(ALNUM), size=rng.integers(3, 8)))
    suffix = SUFFIXES[rng.integers(len(SUFFIXES))]
    labels = [name, suffix]
    if kind == "www":
        labels.insert(0, "www")
    elif kind == "ftp" and rng.random() < 0.6:
        labels.insert(0, "ftp")
    elif rng.random() < 0.35:
        labels.insert(0, SUBDOMAINS[rng.integers(len(SUBDOMAINS))])
    elif kind in ("https", "http") and rng.random() < 0.35:
        labels.insert(0, "www")
    return ".".join(labels)


def generate_url(rng: np.random.Generator, vocab: Vocabulary, max_len: int = 120) -> GeneratedUrl:
    kind = KINDS[rng.choice(len(KINDS), p=KIND_P)]
    host = _host(rng, vocab, kind)
    path = ""
    n_seg = rng.choice([0, 1, 2, 3, 4, 5, 6], p=[0.22, 0.25, 0.2, 0.14, 0.1, 0.06, 0.03])
    if kind == "bare" and n_seg == 0 and rng.random() < 0.5:
        n_seg = 1
    segs = [_token(rng, vocab) for _ in range(n_seg)]
    if segs and rng.random() < 0.2:
        segs[-1] += "." + EXTS[rng.integers(len(EXTS))]
    if segs and rng.random() < 0.1:
        segs.insert(0, "~" + vocab.word(rng).lower())
    if segs:
        path = "/" + "/".join(segs)
        if rng.random() < 0.2:
            path += "/"
    elif rng.random() < 0.15 and kind != "bare":
        path = "/"
    if rng.random() < 0.12:
        qs = [f"{vocab.word(rng).lower()}={_token(rng, vocab)}" for _ in range(rng.integers(1, 4))]
        path = (path or "/") + "?" + "&".join(qs)
    if rng.random() < 0.08:
        path += "#" + _token(rng, vocab)
    prefix = {"https": "https://", "http": "http://", "ftp": "ftp://", "www": "", "bare": ""}[kind]
    if kind == "www" and rng.random() < 0.15:
        prefix = "https://"
    text = prefix + host + path
    if len(text) > max_len:
        text = text[:max_len].rstrip("/.-_?&=#~")
    if len(text) < 8:
        text = prefix + host + "/" + _token(rng, vocab)
    return GeneratedUrl(text=text, kind=kind)
