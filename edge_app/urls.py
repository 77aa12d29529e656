"""The one definition of what a printed link is, and how OCR text becomes one.

Everything that turns text into a URL goes through this module: the live
pipeline, the benchmark's full-page baseline, training's evaluation. Rules:

* ``repair_ocr`` fixes what Tesseract typically gets wrong in link text
  (``htps``, ``https:l/``, ``www,``, ``wvw``, commas in host names, spaces,
  typographic quotes and dashes, punctuation the sentence added around it).
* ``normalize_url`` decides whether the repaired text is a link at all. The
  host must end in an ICANN public suffix from the Public Suffix List bundled
  with ``publicsuffixlist`` (offline, no network), and own a registrable
  name below it. A host without a scheme and without ``www.`` is accepted
  with a path (``keras.io/docs``) or, on its own, only when its top-level
  domain is one people print as a web address (``keras.io``, ``arxiv.org``)
  and not one that is mostly a file extension (``setup.py``, ``README.md``).
* ``is_safe_to_open`` is the gate in front of the browser: http/https (ftp
  only when asked), a valid host, no credentials, no control characters.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, urlsplit

from publicsuffixlist import PublicSuffixList

log = logging.getLogger(__name__)

WORD_LIST = Path("/usr/share/dict/words")  # Debian package wamerican

WEB_SCHEMES = ("http", "https")

# Top-level domains that are also common file extensions: a bare
# ``name.<tld>`` with no scheme, no www. and no path is far more often a file
# name in a book than a web site (setup.py, README.md, install.sh, clip.mov).
FILE_EXTENSION_TLDS = frozenset({"py", "md", "rs", "sh", "zip", "mov", "so", "ps", "pm", "pt", "ml"})

# Generic TLDs that a bare ``name.<tld>`` may use. Every other gTLD (.name,
# .show, .fit, .save, .data, ...) collides with code such as ``self.name`` or
# ``model.fit`` and needs a scheme, www. or a path to count as a link.
# Two-letter country codes are always accepted (minus the file extensions).
BARE_GENERIC_TLDS = frozenset({
    "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "dev", "app", "tech", "blog",
    "xyz", "science", "cloud", "page", "site", "online", "store", "news", "wiki", "media", "global",
    "design", "studio", "academy", "systems", "software", "codes", "tools", "network", "digital",
    "world", "today", "guide", "link", "live", "space", "website", "museum", "aero", "coop", "pro",
})

# Characters a typesetter's quotes, dashes and invisible marks turn into.
_CHAR_MAP = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2039": "'", "\u203a": "'", "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\ufe63": "-", "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
})
_WS = re.compile(r"\s+")

# Scheme as Tesseract reads it: h read as n or A; t read as l, 1, i, I, f, e
# or doubled/dropped;
# p read as o; s read as 5 or $; then a colon read as ; . , - or lost; then up
# to two slashes, either of which may be read as l, I, 1, |, ! or a
# backslash. Not "i": a lost slash before a host starting with i
# ("https:/imprimaturs.com") is far commoner than a slash read as i.
_SCHEME = re.compile(
    r"^(?P<scheme>[hnA][tl1iIfe|]{1,3}[po](?P<s>[s5$]?)|f[tl1]p)(?P<sep>[:;.,viy-]?)(?P<sl>(?-i:[/\\|lI1!]){0,2})",
    re.IGNORECASE,
)
# "ttps://": a cut-out that starts a letter late loses the "h" (the map's
# end falls short of the first letter), or the "htt" ("ps://"). Only
# before a colon and a slash: "ttp" or "tps" alone is too little to tell a
# scheme by.
_HEADLESS_SCHEME = re.compile(r"^(?:t[tl1]ps?|(?P<ps>ps))[:;][/\\]", re.IGNORECASE)
# A scheme garbled past _SCHEME's letter classes ("hups://", "bttpe://",
# "herp://"): a short word, its colon (or a lost one), then a slash: no
# word of the text before a link is followed by one. Taken for http or
# https by edit distance (``_garbled_scheme``); real schemes that close to
# them stay themselves. Without the slash ("help:") it is only a hint that a
# new link starts (``starts_new_link``).
_GARBLED_SCHEME = re.compile(r"^(?P<word>[a-z]{3,6})(?:[:;][/\\]{1,2}|//)", re.IGNORECASE)
_NEAR_HTTP_SCHEMES = frozenset({"ftp", "ftps", "hkp", "htcp", "http", "https", "hxxp", "nntp", "ntp", "rtmp", "rtp",
                                "rtsp", "sftp", "shttp", "smtp", "tcp", "tftp", "udp"})
# No link starts with these; specks and rules left of a link read as them
# (a table's rule above a link's line reads as "==-", "=_", "~").
_LEADING_JUNK = "([{<\"'.,;:\u00b7\u2022*_-!|`^=~"
# "_" included: an underline under a link's last letters reads as one; "*":
# a footnote's mark, or a speck.
_TRAILING_JUNK = ".,;:!?\"'>_*"
# Trailing junk that is not also a mark a link breaks after (``looks_incomplete``).
_NEVER_BEFORE_WRAP = "!\"'>,;"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {v: k for k, v in _CLOSERS.items()}
# The extension ending a URL's path (``_repair_path``: the part before ? or #).
_PAGE_EXT = re.compile(r"/[^/]*\.([A-Za-z0-9]{4})$")
# An opening bracket with a link's start right after it; a scheme (its
# letters as Tesseract confuses them) right after a word.
_BRACKETED_LINK = re.compile(r"[(\[{](?=(https?|ftp)[:;]|www\.|[a-z]{3,6}[:;]?//)", re.IGNORECASE)
_GLUED_SCHEME = re.compile(r"h[tl1]{1,3}ps?[:;][/\\]", re.IGNORECASE)
# A comma then a label and its colon after a link: a reference list's next
# field ("….pdf,doi:10.1145/…", the space squeezed out), not the link's path.
_NEXT_LABEL = re.compile(r",[A-Za-z]{2,12}:")
# Two or more "=" at the very end (with "_" among them): a blurred line end,
# an underline or the edge of the cut-out read as "=="; a query value ends in
# at most one. So is a lone "-", "=" or "~" after a final slash or underscore
# ("…/debian/-", "…/Color_=", with a speck's "." before it: "…/.="): no path
# segment is that alone (a typesetter's hyphen after a slash is dropped when
# the rest is joined, ``join_wrapped``).
_TRAILING_RULE = re.compile(r"[=_]*=[=_]*=[=_]*$|(?<=[/_])\.*[-=~]+$")
# "www." at the start of a host, with the w's broken into v's, one lost, a
# blurred one read as a round letter ("wew", "waw", "wurw"), or a stray
# capital left by the slash before it ("//www" read as "/Avww").
_WWW = re.compile(r"^(?-i:[AMN])?(?P<w>[wvuearn]{2,6})[.,]", re.IGNORECASE)
_TLD_FIXES = {"corn": "com", "c0m": "com", "con": "com", "cim": "com", "0rg": "org", "orq": "org", "ore": "org"}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_KNOWN_SCHEME = re.compile(r"^(https?|ftp)://", re.IGNORECASE)
_ANY_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
# Characters left as they are in path, query and fragment; anything else
# (non-ASCII OCR output) is percent-encoded so the URL is plain ASCII.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?#[]"


@functools.lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # only_icann: private registrations (blogspot.com, github.io) are not
    # top-level domains; accept_unknown=False: a suffix must be on the list.
    return PublicSuffixList(only_icann=True, accept_unknown=False)


@functools.lru_cache(maxsize=1)
def english_words(path: Path = WORD_LIST) -> frozenset[str]:
    """Lower-case dictionary words used to judge hyphens at line breaks;
    empty when no word list is installed (then such hyphens are kept)."""
    try:
        text = path.read_text(encoding="utf-8", errors="ignore")
    except OSError:
        log.info("no word list at %s: hyphens at line breaks inside words are kept", path)
        return frozenset()
    return frozenset(w.lower() for w in text.split() if w.isascii() and w.isalpha())


def warm_up() -> None:
    """Load the suffix list and the word list now (about 0.3 s), so that the
    first frame with a link is not the one that pays for it."""
    _psl()
    english_words()


# --------------------------------------------------------------------- repair
def _clean_chars(text: str) -> str:
    # NFKC folds ligatures (ﬁ), full-width forms and the ellipsis into ASCII.
    text = unicodedata.normalize("NFKC", text).translate(_CHAR_MAP)
    return _WS.sub("", text)


def _strip_leading(text: str) -> str:
    while text and text[0] in _LEADING_JUNK:
        text = text[1:]
    return text


def _cut_to_link(text: str) -> str:
    """The link out of the sentence's words read with it. A link the
    sentence opened a bracket before ends where that bracket closes:
    "(https://x.org/a)of" is the link then the sentence's next word (the
    reader squeezes out the space), "(…/Foo_(bar))" keeps the pair the link
    itself holds. The word before such a bracket, when the detection took it
    in ("GNU/Hurd(https://…"), goes, as does a word glued straight onto a
    scheme ("URLhttps://…", "athttps://…"; letters only: code such as
    'src="https://…' is not a link's text, and a link can hold another in
    its path), or a label and its colon ("URI:https://…", "Web:http://…":
    the reader squeezes out the space after the colon, and the label would
    read as the link's scheme). Text with neither comes back as it was."""
    if m := _BRACKETED_LINK.search(text):
        if m.start() > 0 and "://" not in text[:m.start()]:
            text = text[m.start():]
    elif (m := _GLUED_SCHEME.search(text)) and text[:m.start()].removesuffix(":").isalpha():
        text = text[m.start():]
    lead = len(text) - len(_strip_leading(text))
    opened = [c for c in text[:lead] if c in _OPENERS]
    if not opened:
        return text
    opener = opened[-1]
    closer = _OPENERS[opener]
    depth = 0
    for i in range(lead, len(text)):
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            if depth == 0:
                return text[:i]
            depth -= 1
    return text


def _drop_next_label(text: str) -> str:
    """``text`` up to a reference list's next field glued on (``_NEXT_LABEL``)."""
    start = text.find("://")
    m = _NEXT_LABEL.search(text, start + 3 if start != -1 else 0)
    return text[:m.start()] if m else text


def _drop_rule(text: str) -> str:
    """``text`` without a trailing run of "==" junk (``_TRAILING_RULE``)."""
    m = _TRAILING_RULE.search(text)
    return text[:m.start()] if m else text


def _ends_unopened(text: str) -> bool:
    """Does ``text`` end in a closing bracket it never opened?"""
    last = text[-1:]
    return last in _CLOSERS and text.count(_CLOSERS[last]) < text.count(last)


def _strip_edges(text: str) -> str:
    """Remove what the surrounding sentence added: leading brackets/quotes,
    trailing punctuation and closing brackets that have no opening one."""
    text = _strip_leading(text)
    changed = True
    while text and changed:
        changed = False
        if (cut := _drop_rule(text)) != text:
            text, changed = cut, True
        elif text[-1] in _TRAILING_JUNK or _ends_unopened(text):
            text, changed = text[:-1], True
    return text


def _starts_word(text: str) -> bool:
    m = re.match(r"[A-Za-z]{3,}", text)
    return m is not None and m.group(0).lower() in english_words()


def _repair_scheme(text: str) -> tuple[str, str]:
    """Split ``text`` into (scheme prefix as it should read, rest)."""
    if hm := _HEADLESS_SCHEME.match(text):
        text = ("htt" if hm.group("ps") else "h") + text
    m = _SCHEME.match(text)
    if m:
        sep, sl = m.group("sep"), m.group("sl")
        real_slash = any(c in "/\\" for c in sl)
        # Right after "https:" only "//" can follow, so any slash-like
        # characters there are slashes, and lost ones are put back; without
        # a colon a real slash is needed to tell a scheme from a word ("hip").
        # A dot, comma, hyphen or a blurred colon read as v, i or y
        # ("httpsv/x.io") is a colon only before a real slash: "ftp.gnu.org"
        # and "http.cat" are host names.
        if sep in (":", ";") or real_slash:
            word = m.group("scheme").lower()
            scheme = "ftp" if word.startswith("f") else ("https" if m.group("s") else "http")
            end = m.end()
            # "https:/lists..." is a lost slash before a word more often than a
            # slash read as "l": keep the letter when it starts a word.
            if len(sl) == 2 and sl[0] in "/\\" and sl[1] in "lI" and _starts_word(text[end - 1:]):
                end -= 1
            rest = text[end:].lstrip("/\\")
            if not rest and not sl:
                return scheme + ":", rest  # a bare "https:" at the end of a printed line
            return scheme + "://", rest
    g = _GARBLED_SCHEME.match(text)
    scheme = _garbled_scheme(g.group("word")) if g else None
    if g and scheme:
        return scheme + "://", text[g.end():].lstrip("/\\")
    if text.startswith("//"):
        return "", text[2:]
    return "", text


def _garbled_scheme(word: str) -> str | None:
    """"http" or "https" for a scheme word Tesseract garbled (within two
    edits of one of them: "hups", "nttpa", "herp"), else None. A tie goes by
    length: the fifth letter is the "s" read wrong ("bttpe" https, "hup" http)."""
    w = word.lower()
    if w in _NEAR_HTTP_SCHEMES:
        return None
    d_http, d_https = _edit_distance(w, "http"), _edit_distance(w, "https")
    if min(d_http, d_https) > 2:
        return None
    if d_http != d_https:
        return "http" if d_http < d_https else "https"
    return "https" if len(w) >= 5 else "http"


def _repair_host(host: str) -> str:
    m = _WWW.match(host)
    if m:
        w = m.group("w").lower()
        weight = w.count("w") + 0.5 * w.count("v")  # "vv" is how a "w" breaks apart
        round_letters = len(w) - w.count("w") - w.count("v")
        # A label with round letters in it may be a name of its own ("wwe.com"):
        # only a host that keeps two labels after it.
        if 2 <= weight <= 4 and (round_letters == 0 or (round_letters <= 2 and "." in host[m.end():])):
            host = "www." + host[m.end():]
    host = host.replace(",", ".").replace(";", ".")
    host = re.sub(r"\.{2,}", ".", host)
    head, dot, tld = host.rpartition(".")
    port = ""
    if ":" in tld:
        tld, port = tld.split(":", 1)
        port = ":" + port
    if dot and tld.lower() in _TLD_FIXES and head:
        host = head + "." + _TLD_FIXES[tld.lower()] + port
    return host


def repair_ocr(text: str) -> str:
    """Undo Tesseract's usual confusions in the text of one printed link.

    A correct URL comes back unchanged (apart from surrounding punctuation);
    the result is not validated: that is ``normalize_url``'s job.
    """
    # Trailing punctuation goes after the scheme is read: a line may end in
    # a bare "https:".
    prefix, rest = _repair_scheme(_strip_leading(_drop_next_label(_cut_to_link(_clean_chars(text)))))
    rest = _strip_edges(rest)
    if not rest:
        return prefix
    cut = len(rest)
    for c in "/?#":
        i = rest.find(c)
        if i != -1:
            cut = min(cut, i)
    host, tail = rest[:cut], rest[cut:]
    if host and "@" not in host:
        host = _repair_host(host)
    return prefix + host + _repair_path(tail)


def _repair_path(tail: str) -> str:
    """A page's ".html" that Tesseract read one letter wrong (".htm1",
    ".himl", ".huml": l read as 1, t as i, m as u/n) ends the path as
    ".html" again; its query and fragment stay as read."""
    end = min((i for i in (tail.find("?"), tail.find("#")) if i != -1), default=len(tail))
    m = _PAGE_EXT.search(tail, 0, end)
    if m and m.group(1).lower() != "html" and _edit_distance(m.group(1).lower(), "html") == 1:
        return tail[:m.start(1)] + "html" + tail[m.end(1):]
    return tail


# ------------------------------------------------------------------ validate
def _ascii_host(host: str) -> str | None:
    host = host.lower().rstrip(".")
    if not host or len(host) > 253:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def valid_host(host: str) -> bool:
    """An ASCII (punycode) host name under an ICANN public suffix."""
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lab) for lab in labels):
        return False
    tld = labels[-1]
    if tld.isdigit() or not (tld.isalpha() or tld.startswith("xn--")):
        return False
    psl = _psl()
    return psl.publicsuffix(host) is not None and psl.privatesuffix(host) is not None


def _bare_host_ok(host: str) -> bool:
    tld = host.rsplit(".", 1)[-1]
    if tld in FILE_EXTENSION_TLDS:
        return False
    return len(tld) == 2 or tld in BARE_GENERIC_TLDS or tld.startswith("xn--")


def _split_netloc(netloc: str) -> tuple[str, int | None] | None:
    host, port = netloc, None
    if ":" in netloc:
        host, p = netloc.rsplit(":", 1)
        if not p:
            return host, None
        if not p.isdigit() or not 0 < int(p) < 65536:
            return None
        port = int(p)
    return host, port


def normalize_url(text: str) -> str | None:
    """Repaired, canonical URL for the text of a printed link, or None when the
    text is not a link (a file name, a number, an abbreviation, an e-mail
    address, a non-web scheme)."""
    t = repair_ocr(text)
    if not t or any(unicodedata.category(c)[0] == "C" for c in t):
        return None
    explicit = _KNOWN_SCHEME.match(t) is not None
    if not explicit:
        m = _ANY_SCHEME.match(t)
        # "mailto:", "javascript:", "file:" ... but "keras.io:8080" is a host.
        if m and "." not in m.group(1):
            return None
        t = "https://" + t
    try:
        parts = urlsplit(t)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if "@" in netloc or "\\" in t:
        return None
    split = _split_netloc(netloc)
    if split is None:
        return None
    host = _ascii_host(split[0])
    if host is None or not valid_host(host):
        return None
    rest = parts.path + (("?" + parts.query) if parts.query else "") + (("#" + parts.fragment) if parts.fragment else "")
    if not explicit and not host.startswith("www.") and not rest.strip("/") and not _bare_host_ok(host):
        return None
    port = split[1]
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{quote(rest, safe=_PATH_SAFE)}"


def is_safe_to_open(url: str, allow_ftp: bool = False) -> bool:
    """True only for a URL the browser may be asked to open: http/https (and
    ftp when allowed), a valid public host, no user name or password, no
    control, format or space characters, no backslashes."""
    if not isinstance(url, str) or not url:
        return False
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    allowed = WEB_SCHEMES + (("ftp",) if allow_ftp else ())
    if parts.scheme.lower() not in allowed or not url.lower().startswith(parts.scheme.lower() + "://"):
        return False
    if "@" in parts.netloc:
        return False
    split = _split_netloc(parts.netloc)
    if split is None:
        return False
    host = _ascii_host(split[0])
    return host is not None and valid_host(host)


def display_host(url: str) -> str:
    """The host as a person should see it before opening the link: the
    punycode form (so ``xn--pple-43d.com`` cannot pass for ``apple.com``),
    followed by the Unicode it spells, in brackets, when they differ."""
    try:
        netloc = urlsplit(url if "://" in url else "https://" + url).netloc
    except ValueError:
        return ""
    host = netloc.rsplit("@", 1)[-1]
    split = _split_netloc(host)
    host = split[0] if split else host
    ascii_host = _ascii_host(host)
    if ascii_host is None:
        return host.encode("ascii", "backslashreplace").decode("ascii")
    if "xn--" not in ascii_host:
        return ascii_host
    try:
        uni = ascii_host.encode("ascii").decode("idna")
    except UnicodeError:
        return ascii_host
    return f"{ascii_host} ({uni})" if uni != ascii_host else ascii_host


# ------------------------------------------------------------- wrapped links
_DELIMS = "/.?&=#_~:%"
_BARE_SCHEME = re.compile(r"^(https?|ftp)(:(//?)?)?$|^www\.?$", re.IGNORECASE)
# Past a hyphen ending a line: a mark and at most a character more
# ("debian-_4", "debian-_g~", "manuals/-_", "debian-.": a table's rule or a
# speck at the line's end); a "~" or "." right after a final slash ("doc/~":
# the typesetter's hyphen after the slash, read as a tilde; "2ee1.us/.": a
# speck, and a path segment starting with "." is rare). No URL breaks there.
_JUNK_AFTER_BREAK = re.compile(r"(?<=-)[_~.][A-Za-z0-9]?~?$|(?<=/)[~.]$")


def _left_word(text: str) -> str:
    """The word fragment ending ``text``: trailing letters back to an
    upper-case letter (CamelCase) or a non-letter."""
    i = len(text)
    while i > 0 and text[i - 1].isalpha():
        i -= 1
        if text[i].isupper():
            break
    return text[i:]


def _right_word(text: str) -> str:
    i = 0
    while i < len(text) and text[i].isalpha() and (i == 0 or not text[i].isupper()):
        i += 1
    return text[:i]


def _drop_break_hyphen(head: str, tail: str, words: frozenset[str]) -> bool:
    """Is the hyphen ending ``head`` (the text of one printed line, minus that
    hyphen) a typesetter's, to drop, rather than part of the URL?

    Rule: drop it when it touches a URL delimiter (``docs/-`` + ``intro``,
    ``a-`` + ``/b``): no URL puts a hyphen there, a typesetter does. Between
    two letters, drop it only when the two word fragments join into a
    dictionary word (``documen-`` + ``tation``) and are not both words on
    their own (``long-`` + ``term``); otherwise keep it, since hyphenated
    path slugs (``/had-long-pardonable``) are far more common in URLs than
    typesetters who hyphenate inside one (style guides forbid it).
    """
    if not head or not tail:
        return False
    if head[-1] in _DELIMS or tail[0] in _DELIMS or tail[0] == "-":
        return True
    left, right = _left_word(head).lower(), _right_word(tail).lower()
    if not left or not right or not words:
        return False
    if left in words and right in words and len(left) > 1 and len(right) > 1:
        return False
    return (left + right) in words


def _wrap_head(text: str) -> str:
    """A wrapped link's line without the junk Tesseract reads past its end:
    marks no link breaks before (``should_!``, ``a/,``), and what a speck or
    a table's rule past the slash or hyphen it breaks at reads as
    (``_JUNK_AFTER_BREAK``: ``2ee1.us/.``, ``debian-_4``). Nothing left to
    strip to: kept as read."""
    t = _JUNK_AFTER_BREAK.sub("", text.rstrip(_NEVER_BEFORE_WRAP))
    return t or text


def join_wrapped(parts: list[str], words: frozenset[str] | None = None) -> str:
    """Join the texts of a link printed over several lines into one string.

    Whitespace is dropped; a hyphen ending a line is dropped or kept by the
    rule in ``_drop_break_hyphen``. ``words`` defaults to the system word list.
    The result is raw text: pass it to ``normalize_url``.
    """
    if words is None:
        words = english_words()
    pieces = [p for p in (_clean_chars(x) for x in parts) if p]
    if not pieces:
        return ""
    out = pieces[0]
    for nxt in pieces[1:]:
        # Junk read past a line's end is not part of the link (``looks_incomplete``).
        out = _wrap_head(out)
        if out.endswith("-") and not out.endswith("--") and _drop_break_hyphen(out[:-1], nxt, words):
            out = out[:-1]
        out += nxt
    return out


# The characters a link can end on when the sentence's next word follows it;
# after a full stop, only a sentence's first word ("….html. The"): a link's
# own dot can be read with a space after it ("gentoo. git", "ac. uk").
_BEFORE_WORD = "/),;:"
_SENTENCE_START = re.compile(r"[A-Z][a-z]")


def squeeze_line(text: str) -> str:
    """One printed line's reading as link text: Tesseract's spaces squeezed
    out, as it puts them inside links ("https: //x.org/ a/b"), except after a
    whole link that only words follow ("…/debian/ stable main", a detection
    that ran past the link into the sentence): there the link ends. A word
    here holds a letter and no URL delimiter; the link is a valid URL that
    ends where a sentence's word can follow it (a slash, a closing bracket,
    punctuation)."""
    words = text.split()
    for k in range(1, len(words)):
        head, rest = "".join(words[:k]), "".join(words[k:])
        if head[-1] not in _BEFORE_WORD and not (head[-1] == "." and _SENTENCE_START.match(rest)):
            continue
        if any(c in _DELIMS or c == "@" for c in rest) or not any(c.isalpha() for c in rest):
            continue
        if normalize_url(head) is not None:
            return head
    return "".join(words)


def is_bare_scheme(text: str) -> bool:
    """Is this text a link's opening and nothing else (``https:``,
    ``http://``, ``www.``: a link wrapped right after it)?"""
    t = _clean_chars(text)
    return bool(t) and bool(_BARE_SCHEME.match(t) or _BARE_SCHEME.match(repair_ocr(t)))


def looks_incomplete(text: str) -> bool:
    """Does this line of link text end where a URL cannot (or rarely does)?"""
    t = _clean_chars(text)
    if not t:
        return False
    if is_bare_scheme(t):
        return True
    # Junk read past the line's end ("should_!"), and sentence marks that no
    # wrapped link ends in, hide the character that tells.
    t = _wrap_head(_drop_rule(t))
    # "...pdf)." or "...html]": a bracket the link did not open closes the
    # sentence's parenthesis around it, so the link ended before it.
    if _ends_unopened(_strip_leading(t).rstrip(".,;:")):
        return False
    return bool(t) and t[-1] in "/.-?=&_:#~%"


# A line opening with a short word and a colon that is nearly "http(s)"
# (a scheme Tesseract garbled past repair: "Retps:", "nttps:"), or another
# scheme that close to it.
_WORD_COLON = re.compile(r"^([a-z]{3,6}):")
# A scheme garbled past any repair still leaves its two slashes near the
# line's start, after a mark no host has and with no dot or slash before
# them ("Vw)iyp://", "PYbeeps!//"); the rest of a link carries its host's
# dots or its path's slashes first (a doubled slash after a host's last
# label, "org//x", is the link's own).
_SLASHES_OPEN = re.compile(r"^(?=[^./\s]*[^A-Za-z0-9_./\s-])[^./\s]{2,8}//")
# A reference list's next field opening the line below a link that ended
# ("…package=blme" then "doi:10.1038/…"); no link's rest starts this way.
_NEXT_FIELD = re.compile(r"^(doi|arxiv|isbn|issn|pmid)[:;]", re.IGNORECASE)


def starts_new_link(text: str) -> bool:
    """Does this line's text open a link (a scheme, garbled or not, or www.)?"""
    t = repair_ocr(text).lower()
    if t.startswith(("http:", "https:", "ftp:", "www.")):
        return True
    m = _WORD_COLON.match(t)
    if m and (m.group(1) in _NEAR_HTTP_SCHEMES or _garbled_scheme(m.group(1)) is not None):
        return True
    return bool(_SLASHES_OPEN.match(_clean_chars(text)))


def continues_link(prev_text: str, next_text: str) -> bool:
    """Does the link text on the next printed line continue the link on the
    previous one? (The pipeline checks the geometry; this checks the text.)

    No, when the next line starts a link of its own (a scheme or www.).
    Yes, when it starts with a character no link starts with (``/ ? # & = .``).
    No, when the previous line is a link followed by a comma or semicolon,
    or by a full stop with a capitalised word next, or when the next line
    opens a reference's next field (``doi:``, ``arXiv:``).
    Yes, when the next line is not a link by itself (``tation/index.html``).
    When it is a link by itself (``keras.io``), only when the previous line
    cannot end a link: it ends in a delimiter other than ``/`` or is not a
    link on its own.
    """
    n = _clean_chars(next_text)
    if not n or starts_new_link(n) or _NEXT_FIELD.match(n):
        return False
    if n[0] in "/?#&=.":
        return True
    p = _clean_chars(prev_text)
    if p[-1:] in (",", ";") and normalize_url(p) is not None:
        # A link then the sentence's comma: the link ended on this line.
        return False
    if p[-1:] == "." and p[-2:-1].isalnum() and n[:1].isupper() and n[1:2].islower() \
            and normalize_url(p[:-1]) is not None:
        # "…/package=Rcpp." then "Laurus-Stone": the sentence ended with the
        # link, and a capitalised word opens the next one ("…microsoft." then
        # "com/…" is a break at the host's dot).
        return False
    if normalize_url(n) is None:
        return True
    if not p:
        return False
    if p.endswith("/"):
        return normalize_url(p) is None
    return looks_incomplete(p) or normalize_url(p) is None


def continues_on_line(left_text: str, right_text: str) -> bool:
    """Is the text of a piece just right of another, on the same printed
    line, the rest of the left piece's link? (The detector's map breaks a
    line at thin characters: ``https:`` | ``//cr.yp.to/software`` | ``.html``.)

    Stricter than ``continues_link``: a word space looks the same as such a
    break, so the right piece must start with a character no link starts
    with, or the left one must end where no link ends and not be a link on
    its own (``https:``, ``https://bugs.debian.``; a link ending in "/" is
    usually complete, and what follows it is the sentence). Never when the
    right piece starts a link of its own.
    """
    left, right = _clean_chars(left_text), _clean_chars(right_text)
    if not left or not right or starts_new_link(right):
        return False
    return right[0] in "/?#&=." or (looks_incomplete(left) and normalize_url(left) is None)


def lost_scheme(text: str) -> bool:
    """Does this reading of a link open with a scheme's two slashes and no
    scheme ("//www.jstor.org/…": the link was broken after "http:", which
    ended the line above and was not read with it)? ``normalize_url`` gives
    such a link https, a guess."""
    return _strip_leading(_clean_chars(text)).startswith("//")


def page_scheme(readings: Iterable[str]) -> str | None:
    """The scheme ("http" or "https") most of a page's links print, from
    their readings; None when none prints one, or as many print each."""
    counts = Counter(m.group(1).lower() for t in readings if (m := _KNOWN_SCHEME.match(repair_ocr(t))))
    http, https = counts["http"], counts["https"]
    return None if http == https else ("http" if http > https else "https")


def with_scheme(url: str, scheme: str) -> str:
    """``url`` (a normalized URL) with another scheme."""
    return scheme + url[url.index("://"):]


# --------------------------------------------------------------- free text
_SPACED_SCHEME = re.compile(r"(?i)\b(?:h[tl1i]{1,3}p[s5]?|ftp)(?:\s*[:;]\s*(?=[/\\|lI1])|\s+(?=//))")


def find_urls(text: str) -> list[str]:
    """Normalized URLs found in free text (a whole page read by Tesseract),
    in order of appearance, without repeats. Uses the same rules as
    ``normalize_url``; a link wrapped at a line end is joined when
    ``continues_link`` says the next line's first word continues it."""
    # "https: //x.org" is one token once the spaces inside the scheme go.
    text = _SPACED_SCHEME.sub(lambda m: _WS.sub("", m.group(0)), text)
    lines = [ln.split() for ln in text.splitlines()]
    found: list[str] = []
    consumed: set[tuple[int, int]] = set()
    for li, tokens in enumerate(lines):
        for ti, tok in enumerate(tokens):
            if (li, ti) in consumed:
                continue
            url = None
            if ti == len(tokens) - 1 and li + 1 < len(lines) and lines[li + 1]:
                nxt = lines[li + 1][0]
                # "keras.io." followed by "It" on the next line ends a sentence.
                sentence_end = tok.endswith(".") and nxt[:1].isupper()
                if any(c in tok for c in "./") and looks_incomplete(tok) and not sentence_end \
                        and continues_link(tok, nxt):
                    url = normalize_url(join_wrapped([tok, nxt]))
                    if url is not None:
                        consumed.add((li + 1, 0))
            if url is None:
                url = normalize_url(tok)
            if url is not None and url not in found:
                found.append(url)
    return found


# -------------------------------------------------------------------- voting
def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def vote(readings: list[str], weights: list[float] | None = None) -> str:
    """One URL from several OCR readings of the same link ("" if none of them
    is a link).

    Readings are normalized first; invalid ones are ignored. The URL with the
    largest total weight (default 1 each, e.g. Tesseract confidences) wins.
    With no clear winner and at least three readings of one length, a
    per-character vote over those readings is tried (OCR errors at different
    positions cancel out), and kept if it is itself a valid URL. Otherwise
    the tie goes to the reading closest (edit distance) to all the others,
    then to the latest reading.
    """
    if weights is None:
        weights = [1.0] * len(readings)
    if len(weights) != len(readings):
        raise ValueError("vote: one weight per reading")
    urls: list[tuple[str, float]] = []
    for r, w in zip(readings, weights):
        u = normalize_url(r)
        if u is not None:
            urls.append((u, float(w)))
    if not urls:
        return ""
    totals: Counter[str] = Counter()
    for u, w in urls:
        totals[u] += w
    ranked = totals.most_common()
    if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
        return ranked[0][0]

    by_len: dict[int, list[tuple[str, float]]] = {}
    for u, w in urls:
        by_len.setdefault(len(u), []).append((u, w))
    group = max(by_len.values(), key=lambda g: (len(g), sum(w for _, w in g)))
    if len(group) >= 3:
        chars = []
        for i in range(len(group[0][0])):
            col: Counter[str] = Counter()
            for u, w in group:
                col[u[i]] += w
            chars.append(col.most_common(1)[0][0])
        merged = normalize_url("".join(chars))
        if merged is not None:
            return merged

    best = ranked[0][1]
    tied = [u for u, t in ranked if t == best]
    order = {u: i for i, (u, _) in enumerate(urls)}  # last occurrence wins ties

    def spread(u: str) -> tuple[int, int]:
        return (sum(_edit_distance(u, v) for v, _ in urls), -order[u])

    return min(tied, key=spread)
