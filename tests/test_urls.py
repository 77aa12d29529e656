"""URL rules: OCR repair, validation against the Public Suffix List, safety,
wrapped links, free-text search and voting."""

from __future__ import annotations

import pytest

from edge_app.urls import (
    continues_link,
    continues_on_line,
    display_host,
    find_urls,
    is_safe_to_open,
    join_wrapped,
    looks_incomplete,
    lost_scheme,
    normalize_url,
    page_scheme,
    repair_ocr,
    squeeze_line,
    vote,
    with_scheme,
)

# (what Tesseract read, the URL it should become)
OCR_MISTAKES = [
    ("htps://keras.io/docs", "https://keras.io/docs"),
    ("htp://example.com/a", "http://example.com/a"),
    ("hltps://github.com/tensorflow", "https://github.com/tensorflow"),
    ("hitps://arxiv.org/abs/1706.03762", "https://arxiv.org/abs/1706.03762"),
    ("htttps://pytorch.org", "https://pytorch.org"),
    ("https:/pytorch.org/hub", "https://pytorch.org/hub"),
    # A table's rule just above a link's line, read in front of it.
    ("==-hittp://security.debian.org/debian-security/", "http://security.debian.org/debian-security/"),
    ("~http://deb.debian.org/debian/", "http://deb.debian.org/debian/"),
    # A speck after the link's last slash or underscore.
    ("http://deb.debian.org/debian/-.", "http://deb.debian.org/debian/"),
    ("http://en.wikipedia.org/wiki/Color_=", "http://en.wikipedia.org/wiki/Color"),
    ("https://www.R-project.org/.=", "https://www.r-project.org/"),
    ("http://security.debian.org/debian-security/_*", "http://security.debian.org/debian-security/"),
    # A footnote's mark after the sentence's comma.
    ("https://qa.debian.org/howto-remove.html,*", "https://qa.debian.org/howto-remove.html"),
    ("https://example.org/a/.b", "https://example.org/a/.b"),
    ("https://example.org/a-b/c-", "https://example.org/a-b/c-"),
    ("https://example.org/?q=", "https://example.org/?q="),
    # A blurred line end or an underline read as "==" after the last letter.
    ("https://section.ac.uk/pment?culpable=section-eac===", "https://section.ac.uk/pment?culpable=section-eac"),
    ("www.learn.io/they/word_came==", "https://www.learn.io/they/word_came"),
    ("https://qux5k.org/cambric/she=_=_", "https://qux5k.org/cambric/she"),
    # One slash lost before a host that starts with i or with a word.
    ("(https:/imprimaturs.com),", "https://imprimaturs.com"),
    ("https:/lists.debian.org/debian-user/", "https://lists.debian.org/debian-user/"),
    ("https:/lpytorch.org/hub", "https://pytorch.org/hub"),
    ("https//pytorch.org/hub", "https://pytorch.org/hub"),
    ("https;//pytorch.org/hub", "https://pytorch.org/hub"),
    ("https.//pytorch.org/hub", "https://pytorch.org/hub"),
    # A blurred colon read as a letter, before a real slash (synthetic tuning split).
    ("httpsv/equineprehensile.io,", "https://equineprehensile.io"),
    ("httpsi//pytorch.org/hub", "https://pytorch.org/hub"),
    ("httpy/pytorch.org/hub", "http://pytorch.org/hub"),
    ("httpsvc.com/api", "https://httpsvc.com/api"),  # no slash after the "v": a host
    # A cut-out that starts a letter late (real documents, detected quads).
    ("ttps://www.debian.org/releases/", "https://www.debian.org/releases/"),
    ("ttp:/deb.debian.org/debian", "http://deb.debian.org/debian"),
    ("ttps.com/x", "https://ttps.com/x"),  # no colon: a host
    ("https:l/pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:/l pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:ll pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:I/pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:1/pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:|/pytorch.org/hub", "https://pytorch.org/hub"),
    ("https:\\\\pytorch.org/hub", "https://pytorch.org/hub"),
    ("http5://example.org", "https://example.org"),
    ("HTTPS://WWW.Example.COM/Path/Case", "https://www.example.com/Path/Case"),
    ("https ://docs.python.org/3/library", "https://docs.python.org/3/library"),
    ("https://docs. python.org/3/ library", "https://docs.python.org/3/library"),
    ("https://docs,python,org/3/", "https://docs.python.org/3/"),
    ("www,python.org", "https://www.python.org"),
    ("wvw.python.org", "https://www.python.org"),
    ("vvww.python.org", "https://www.python.org"),
    ("vvvvvv.python.org", "https://www.python.org"),
    ("ww.python.org/about", "https://www.python.org/about"),
    # Blurred w's read as round letters (held-out blurred clips).
    ("wew.meusurpers.ru/SeriesCrackdown", "https://www.meusurpers.ru/SeriesCrackdown"),
    ("https://waw.sprouting.com/", "https://www.sprouting.com/"),
    ("wurw.bewaring.org/want-image", "https://www.bewaring.org/want-image"),
    # ...but not names of their own.
    ("https://wwe.com/", "https://wwe.com/"),
    ("https://web.python.org/", "https://web.python.org/"),
    ("https://new.python.org/", "https://new.python.org/"),
    ("https://wave.python.org/", "https://wave.python.org/"),
    ("https://example.com/path.", "https://example.com/path"),
    ("https://example.com/path,", "https://example.com/path"),
    ("https://example.com/path;", "https://example.com/path"),
    ("https://example.com/path:", "https://example.com/path"),
    ("https://example.com/path).", "https://example.com/path"),
    ("(https://example.com/path)", "https://example.com/path"),
    ("<https://example.com/path>", "https://example.com/path"),
    ("[https://example.com/path]", "https://example.com/path"),
    ('"https://example.com/path"', "https://example.com/path"),
    ("\u201chttps://example.com/path\u201d", "https://example.com/path"),
    ("\u2018www.example.com\u2019", "https://www.example.com"),
    ("https://en.wikipedia.org/wiki/Python_(programming_language)",
     "https://en.wikipedia.org/wiki/Python_(programming_language)"),
    ("https://en.wikipedia.org/wiki/Python_(programming_language)).",
     "https://en.wikipedia.org/wiki/Python_(programming_language)"),
    ("https://example.com/long\u2013path\u2014name", "https://example.com/long-path-name"),
    ("https://example.com/soft\u00adhyphen", "https://example.com/softhyphen"),
    ("https://example.corn/a", "https://example.com/a"),
    ("https://example.0rg/a", "https://example.org/a"),
    ("https://keras.io./api", "https://keras.io/api"),
    ("https://keras.io:443/api", "https://keras.io/api"),
    ("https://keras.io:8080/api", "https://keras.io:8080/api"),
    ("keras.io/docs", "https://keras.io/docs"),
    ("keras.io", "https://keras.io"),
    ("www.bbc.co.uk/news", "https://www.bbc.co.uk/news"),
    ("ftp://ftp.gnu.org/gnu/", "ftp://ftp.gnu.org/gnu/"),
    ("ftp.gnu.org/gnu/", "https://ftp.gnu.org/gnu/"),
    ("https://b\u00fccher.de/katalog", "https://xn--bcher-kva.de/katalog"),
    ("https://example.com/search?q=tesseract&lang=en#results",
     "https://example.com/search?q=tesseract&lang=en#results"),
    ("https://example.com/~user/\ufb01le", "https://example.com/~user/file"),
]

# Correct URLs must come through untouched.
CORRECT = [
    "https://example.com/",
    "https://example.com/a/b-c_d.e~f?g=h&i=j#k",
    "http://m.h1seh.co/",
    "https://7k4j.co/",
    "https://www.concludes.de/~other/taping/warthog-what",
    "https://section.ac.uk/data/centime-live/RefreshinglyAir",
    "https://add-all.gg/AbolishLand/wickers/",
    "https://lwn.net/Articles/",
    "https://www2.example.org/1/2/3",
    "https://ill.example.com/l1I/",
    "http://http.example.com/",
    "https://ftp.lanl.gov/pub",
    "https://example.org/search?q=",  # an empty query value: one "=" is the link's own
]

DISTRACTORS = [
    "e.g.", "i.e.", "etc.", "Fig. 3.2", "Fig. 12", "Table 4.1", "Eq. (7)", "pp. 112-118", "vol. 3",
    "model.json", "config.yaml", "setup.py", "index.html", "README.md", "train.csv", "install.sh",
    "v2.0.1", "v1.4", "3.14159", "0.95", "1,024", "12.5%", "2021-03-14", "14.03.2021", "3/4",
    "and/or", "input/output", "read/write", "TCP/IP", "A.I.", "U.S.", "Ph.D.", "a.m.", "p.m.",
    "No. 5", "sec. 2.3", "ch. 7", "x.shape", "np.array", "tf.keras", "os.path.join", "self.name",
    "model.fit", "plt.show", "jane.doe@example.com", "info@company.org", "$4.99", "10:30",
    "ISBN 978-0-13-468599-1", "", "   ", "https://", "www.", "https://localhost:8000/",
    "http://192.168.1.1/admin", "https://co.uk/", "https://example.invalidtld/",
    "https://-bad-.com/", "https://user:secret@example.com/", "https://user@example.com/",
    "localhost", "mailto:someone@example.com", "javascript:alert(1)", "file:///etc/passwd",
    "data:text/html,<script>alert(1)</script>", "tel:+15551234567", "HTTP/2",
]


@pytest.mark.parametrize(("raw", "url"), OCR_MISTAKES)
def test_ocr_mistakes_are_repaired(raw: str, url: str) -> None:
    assert normalize_url(raw) == url


def test_the_mistake_table_is_large_enough() -> None:
    assert len(OCR_MISTAKES) >= 30
    assert sum(raw != url for raw, url in OCR_MISTAKES) >= 30


@pytest.mark.parametrize("url", CORRECT)
def test_correct_urls_are_not_damaged(url: str) -> None:
    assert repair_ocr(url) == url
    assert normalize_url(url) == url


@pytest.mark.parametrize("text", DISTRACTORS)
def test_distractors_are_not_links(text: str) -> None:
    assert normalize_url(text) is None


def test_bare_host_needs_a_web_like_suffix_or_a_path() -> None:
    assert normalize_url("self.name") is None
    assert normalize_url("www.self.name") == "https://www.self.name"
    assert normalize_url("https://self.name") == "https://self.name"
    assert normalize_url("setup.py") is None
    assert normalize_url("https://setup.py/") == "https://setup.py/"
    assert normalize_url("arxiv.org") == "https://arxiv.org"
    assert normalize_url("co.uk/news") is None  # a public suffix itself, no name below it
    # Private suffixes do not count: github.io is an ordinary name under .io.
    assert normalize_url("github.io") == "https://github.io"


# Schemes Tesseract garbled past the letter classes, from the real-documents
# sets (photo mode's reads), and schemes that are not http(s) but close to it.
@pytest.mark.parametrize(("raw", "url"), [
    ("hups://release.debian.org/wanna-build.txt", "https://release.debian.org/wanna-build.txt"),
    ("herp://upsilon.cc/~zack/talks/", "http://upsilon.cc/~zack/talks/"),
    ("hup://lists.debian.org/debian-devel/", "http://lists.debian.org/debian-devel/"),
    ("bttpe://mac.r-project.org/tools/", "https://mac.r-project.org/tools/"),
    ("nttpa://www.microsoft.com/en-us/", "https://www.microsoft.com/en-us/"),
    ("tps://bugs.debian.org/796118", "https://bugs.debian.org/796118"),
    ("ps://www.debian.org/donations.", "https://www.debian.org/donations"),
    ("maps://example.org", None),
    ("hups:/lists.debian.org/", "https://lists.debian.org/"),
    ("tcp://example.com:2375", None),
    ("sftp://example.com/x", None),
    ("git://git.example.org/x", None),
    ("then://example.com", None),
])
def test_garbled_schemes_are_repaired_only_when_close_to_http(raw: str, url: str | None) -> None:
    assert normalize_url(raw) == url


# A link in parentheses, read with the next word of the sentence glued on
# (real documents, photo mode's reads): it ends where its bracket closes.
@pytest.mark.parametrize(("raw", "url"), [
    ("(https://www.debian.org/devel/tech-ctte#status)of", "https://www.debian.org/devel/tech-ctte#status"),
    ("(http://www.debian.org/intro/help)(offic", "http://www.debian.org/intro/help"),
    ("(https://joeconway.com/plr/))isa", "https://joeconway.com/plr/"),
    ("(nttps://R-Forge.R-project.org/)offers", "https://r-forge.r-project.org/"),
    ("[https://example.org/a]and", "https://example.org/a"),
    # The word before the bracket, taken in by the detection, goes too.
    ("GNU/Hurd(https://www.debian.org/ports/hurd/).", "https://www.debian.org/ports/hurd/"),
    ("libraries(http://www.debian.org/doc/)such", "http://www.debian.org/doc/"),
    # ... and a word glued straight onto a scheme; not one with a slash before it.
    ("URLhttps://people.debian.org/~your-user-id/,", "https://people.debian.org/~your-user-id/"),
    ("athttps://qa.debian.org/developer.php", "https://qa.debian.org/developer.php"),
    # ... or a label and its colon, the space after it squeezed out (a certificate's "URI: https://…").
    ("URI:https://www.example.org", "https://www.example.org"),
    ("Homepage:http://lmdvr.r-forge.r-project.org", "http://lmdvr.r-forge.r-project.org"),
    ("URL:htlps://example.org/a", "https://example.org/a"),
    ("x=:https://example.org/a", None),
    # A reference list's next field, glued on after a comma, is not the link's path.
    ("URL:http://www.lri.fr/~conchon/publis/conchon-smt08.pdf,doi:10.1145/1512464", "http://www.lri.fr/~conchon/publis/conchon-smt08.pdf"),
    ("https://example.org/a,b", "https://example.org/a,b"),
    ("https://web.archive.org/web/2020/http://example.org/", "https://web.archive.org/web/2020/http://example.org/"),
    # The link's own pair of brackets stays; no bracket before it, no cut.
    ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("https://example.org/a_(b)c", "https://example.org/a_(b)c"),
    ("https://example.org/a(http://b.org)", "https://example.org/a(http://b.org)"),
])
def test_a_link_in_brackets_ends_where_they_close(raw: str, url: str) -> None:
    assert normalize_url(raw) == url


@pytest.mark.parametrize(("raw", "url"), [
    ("https://ftp-master.debian.org/REJECT-FAQ.himl", "https://ftp-master.debian.org/REJECT-FAQ.html"),
    ("http://www.debian.org/doc/ch-source.htm1#s-dpkgchangelog", "http://www.debian.org/doc/ch-source.html#s-dpkgchangelog"),
    ("https://example.org/a.huml?x=b.htm1", "https://example.org/a.html?x=b.htm1"),  # only the path's end
    # Other extensions, and a last segment with no extension, stay as read.
    ("https://example.org/data.json", "https://example.org/data.json"),
    ("https://example.org/pkg.aspx", "https://example.org/pkg.aspx"),
    ("https://example.org/htm1", "https://example.org/htm1"),
])
def test_a_pages_html_read_one_letter_wrong_is_repaired(raw: str, url: str) -> None:
    assert normalize_url(raw) == url


@pytest.mark.parametrize(("read", "text"), [
    # A detection that ran past the link into the sentence: the words after it go.
    ("http://deb.debian.org/debian/ stable main", "http://deb.debian.org/debian/"),
    ("Tracker(https://tracker.debian.org/ a", "Tracker(https://tracker.debian.org/"),
    ("(https://R-Forge.R-project.org/ )offers", "(https://R-Forge.R-project.org/"),
    ("http://two.pairlist.net/mailman/listinfo/reportlab-users. From", "http://two.pairlist.net/mailman/listinfo/reportlab-users."),
    # Tesseract's spaces inside a link are squeezed out.
    ("hitp://deb.debian.org/ debian/", "hitp://deb.debian.org/debian/"),
    ("https:// keyring.debian.org/", "https://keyring.debian.org/"),
    ("https://CRAN.R-project.org/ package=cairoDevice", "https://CRAN.R-project.org/package=cairoDevice"),
    ("(https://CRAN.R-project. org/ package=gdat a)", "(https://CRAN.R-project.org/package=gdata)"),
    ("http: //two.pairlist.net/mailman", "http://two.pairlist.net/mailman"),
    # No whole link before the space, or no plain word after it: squeezed.
    ("see the page at", "seethepageat"),
    ("https://sourceforge.net/projects/checkbaskisms/f iles", "https://sourceforge.net/projects/checkbaskisms/files"),
    ("http://ftp.us.debian.org/debian/ _", "http://ftp.us.debian.org/debian/_"),
    ("https://x.org/ 2024", "https://x.org/2024"),
    # After a dot only a sentence's first word ends the link: a link's own dot
    # is read with a space after it too.
    ("https://anonscm.debian.org/git/collab-maint/gentoo. git", "https://anonscm.debian.org/git/collab-maint/gentoo.git"),
    ("https://www.again-warranty.ac. uk", "https://www.again-warranty.ac.uk"),
])
def test_a_lines_reading_is_squeezed_up_to_the_words_after_its_link(read: str, text: str) -> None:
    assert squeeze_line(read) == text


def test_bare_scheme_survives_repair() -> None:
    assert repair_ocr("https:") == "https:"
    assert repair_ocr("https:/") == "https://"
    assert repair_ocr("hltps:") == "https:"


@pytest.mark.parametrize("url", [
    "https://example.com/", "http://example.com/a?b=c", "https://www.bbc.co.uk/news",
])
def test_web_urls_are_safe(url: str) -> None:
    assert is_safe_to_open(url)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "file:///etc/passwd", "data:text/html;base64,PHNjcmlwdD4=",
    "mailto:a@example.com", "ftp://ftp.gnu.org/", "about:blank", "chrome://settings",
    "https://user:pw@example.com/", "https://example.com@evil.com/", "https://exa\tmple.com/",
    "https://example.com/\x00", "https://example.com/\u202egnp.exe", "https://localhost/",
    "https://127.0.0.1/", "https://example.com\\@evil.com/", "https:example.com", "//example.com/",
    "https://example.com:99999/", "", "https://example.com/a b",
])
def test_unsafe_urls_are_refused(url: str) -> None:
    assert not is_safe_to_open(url)


def test_ftp_only_when_allowed() -> None:
    assert not is_safe_to_open("ftp://ftp.gnu.org/gnu/")
    assert is_safe_to_open("ftp://ftp.gnu.org/gnu/", allow_ftp=True)
    assert not is_safe_to_open("javascript:alert(1)", allow_ftp=True)


def test_normalized_urls_are_safe() -> None:
    for raw, _ in OCR_MISTAKES:
        url = normalize_url(raw)
        assert url is not None
        assert is_safe_to_open(url, allow_ftp=True), url


def test_display_host_shows_lookalikes() -> None:
    assert display_host("https://www.example.com/a") == "www.example.com"
    # Cyrillic "а" in place of Latin "a": the punycode gives it away.
    shown = display_host("https://\u0430pple.com/login")
    assert shown.startswith("xn--") and "\u0430pple.com" in shown
    assert display_host("https://xn--pple-43d.com/").startswith("xn--pple-43d.com")
    assert display_host("https://EXAMPLE.com:8080/") == "example.com"


@pytest.mark.parametrize(("parts", "joined"), [
    (["https://example.com/", "docs/intro"], "https://example.com/docs/intro"),
    (["https://example.", "com/docs"], "https://example.com/docs"),
    (["https://", "example.com/docs"], "https://example.com/docs"),
    (["https://example.com/docs/-", "intro"], "https://example.com/docs/intro"),
    (["https://example.com/docs.-", "html"], "https://example.com/docs.html"),
    (["https://example.com/a-", "/b"], "https://example.com/a/b"),
    (["https://example.com/documen-", "tation/"], "https://example.com/documentation/"),
    (["https://example.com/Abol-", "ishLand"], "https://example.com/AbolishLand"),
    (["https://example.com/had-long-", "pardonable"], "https://example.com/had-long-pardonable"),
    (["https://example.com/long-", "term"], "https://example.com/long-term"),
    (["https://example.com/x7k-", "4j"], "https://example.com/x7k-4j"),
    (["https://add-", "all.gg/"], "https://add-all.gg/"),
    (["https://example.com/a--", "b"], "https://example.com/a--b"),
    (["  https://example.com/ ", " a b/c "], "https://example.com/ab/c"),
    (["https://example.com/a", "", "b"], "https://example.com/ab"),
    # Junk read past the first line's end (bundled page3: "should_!").
    (["http://example.com/should_!", "world/x.jpg"], "http://example.com/should_world/x.jpg"),
    (["https://example.com/a/\"", "b"], "https://example.com/a/b"),
    # A speck after the slash the line breaks at (bundled page2: "2ee1.us/.").
    (["2ee1.us/.", "topology/want"], "2ee1.us/topology/want"),
    (["https://example.com/a/,", "b"], "https://example.com/a/b"),
    (["https://example.", "com/b"], "https://example.com/b"),
    # A table's rule or a speck past a break hyphen (real documents: a
    # sources.list table, maint-guide's "packaging-manuals/-" + "fhs/").
    (["http://security.debian.org/debian-_4", "security/"], "http://security.debian.org/debian-security/"),
    (["http://security.debian.org/debian-_g~", "security/"], "http://security.debian.org/debian-security/"),
    (["http://security.debian.org/debian-.", "security/"], "http://security.debian.org/debian-security/"),
    (["http://www.debian.org/doc/packaging-manuals/-_", "fhs/"], "http://www.debian.org/doc/packaging-manuals/fhs/"),
    (["http://www.debian.org/doc/~", "devel-manuals"], "http://www.debian.org/doc/devel-manuals"),
    # A link's own underscore stays, and its tilde where typesetters break
    # (after the slash, before the tilde; not after it, as taken above).
    (["https://example.com/a-_b/", "c"], "https://example.com/a-_b/c"),
    (["https://example.com/", "~user/"], "https://example.com/~user/"),
    (["!!!", "b"], "!!!b"),  # nothing left to strip to: kept as read
])
def test_join_wrapped(parts: list[str], joined: str) -> None:
    assert join_wrapped(parts) == joined


def test_join_without_word_list_keeps_hyphens_between_letters() -> None:
    assert join_wrapped(["https://example.com/documen-", "tation"], words=frozenset()) == \
        "https://example.com/documen-tation"
    assert join_wrapped(["https://example.com/docs/-", "intro"], words=frozenset()) == \
        "https://example.com/docs/intro"


@pytest.mark.parametrize(("text", "incomplete"), [
    ("https://example.com/", True), ("https://example.", True), ("https://example.com/a-", True),
    ("https://example.com/?", True), ("https://example.com/?a=", True), ("https://x.com/?a=1&", True),
    ("https://example.com/a_", True), ("https://", True), ("https:", True), ("http", True),
    ("hltps:", True), ("www.", True), ("https://example.com/a", False), ("keras.io", False),
    ("https://example.com/a.html", False), ("", False),
    # The sentence's bracket closed after the link: it ended there.
    ("(https://example.com/a.pdf).", False), ("https://example.com/a.pdf]", False),
    ("https://example.com/a(1).", True),  # its own bracket: the period may still be the link's
    ("https://example.com/a.pdf).====", False), ("https://example.com/a==", False),
    # Junk past the line's end hides the mark that tells; a sentence's "!" does not.
    ("http://example.com/should_!", True), ("https://example.com/a/\",", True),
    ("https://example.com/a!", False), ("example.com/a,", False), ("2ee1.us/.", True),
    ("http://security.debian.org/debian-_4", True),
])
def test_looks_incomplete(text: str, incomplete: bool) -> None:
    assert looks_incomplete(text) is incomplete


@pytest.mark.parametrize(("prev", "nxt", "cont"), [
    ("https://example.com/", "docs/intro", True),
    ("https://example.com/docs/", "keras.io", False),
    ("https://example.com/docs", "https://keras.io", False),
    ("https://example.com/", "www.python.org", False),
    ("https://example.", "com/docs", True),
    ("https://", "keras.io", True),
    ("https://example.com/a", "/b/c", True),
    ("https://example.com/a-", "keras.io", True),
    ("keras.io", "pytorch.org", False),
    ("https://example.com/docu", "mentation", True),
    ("https://example.com/a", "?q=1", True),
    ("https://example.com/a", "", False),
    # A scheme garbled past repair still starts a link of its own...
    ("https://www.gouges.app/", "Retps:tennloodkipmewond", False),
    # ...but not any word before a colon.
    ("https://example.com/", "index:html", True),
    # Its two slashes alone tell, near the start with no dot or slash before
    # them (a cppreference link's next line: "https://gcc.gnu…").
    ("https://en.cppreference.com/w/cpp/compiler_support.", "PYbeeps!//ecc.gnu.org/projects/", False),
    ("https://www.debian.", "org//x", True),
    # A link, then the sentence's comma or semicolon at the line's end: it ended there.
    ("https://pl-how.net/go_roil/bestows-use/,", "pussyfoot-demographics-thermostats,", False),
    ("www.updating.pl/floss_pests/;", "ted.it/replicated/write/these/PlayFunction.jpg,", False),
    # A comma that leaves no link behind it is not the sentence's.
    ("https://,", "example.com/a", True),
    # A reference list: the link, then the next reference's fields.
    ("http://CRAN.R-project.org/package=blme", "doi:10.1038/scientificamerican0577-119", False),
    ("http://arxiv.org/abs/1209.5145", "arXiv:1209.5145", False),
    ("https://cran.r-project.org/package=Rcpp.", "Laurus-Stone", False),
    # A full stop that leaves no link behind it, or a lower-case rest, is a break at a dot.
    ("https://www.", "Example.com/a", True),
    ("https://cran.r-project.org/package=Rcpp.", "tar.gz", True),
    ("https://www.microsoft.", "com/downloads", True),
])
def test_continues_link(prev: str, nxt: str, cont: bool) -> None:
    assert continues_link(prev, nxt) is cont


@pytest.mark.parametrize(("left", "right", "cont"), [
    ("https:", "//cr.yp.to/software", True),  # the map broke at the scheme's '//'
    ("https://cr.yp.to/software", ".html", True),
    ("https://example.com/a/", "b/c", False),  # usually the sentence goes on
    ("https://bugs.debian.", "org/516394", True),
    ("https://exam", "ple.com/a", False),  # mid-word: cannot tell from a word space
    ("https://example.com/a", "?q=1", True),
    ("see", "debian.org", False),  # a word space looks the same as a break
    ("https://example.com/a", "and", False),
    ("https://example.com/", "www.python.org", False),  # a link of its own
    ("https:", "", False),
    # The next table cell's link, its scheme garbled (a sources.list table).
    ("security/", "Vw)iyp://security.debian.org/debian-g/", False),
])
def test_continues_on_line(left: str, right: str, cont: bool) -> None:
    assert continues_on_line(left, right) is cont


def test_find_urls_in_free_text() -> None:
    page = (
        "Deep learning (see https: //keras.io/docs, e.g. Fig. 3.2) is covered\n"
        "in setup.py and README.md; visit www.python.org. The http library and\n"
        "the model.fit call are not links, nor is jane.doe@example.com. Read\n"
        "https://example.com/documen-\n"
        "tation/index.html today or htps://arxiv.org/abs/1706.03762.\n"
        "Go to keras.io.\n"
        "It works, and keras.io is listed once.\n"
    )
    assert find_urls(page) == [
        "https://keras.io/docs",
        "https://www.python.org",
        "https://example.com/documentation/index.html",
        "https://arxiv.org/abs/1706.03762",
        "https://keras.io",
    ]


def test_find_urls_without_links() -> None:
    assert find_urls("Nothing here: e.g. v2.0.1, and/or 3.14159.") == []


def test_vote_majority() -> None:
    readings = ["https://keras.io/api", "htps://keras.io/api", "https://keras.io/apl", "https://keras.io/api."]
    assert vote(readings) == "https://keras.io/api"


def test_vote_per_character_when_no_majority() -> None:
    readings = ["https://keras.io/aXi/", "https://keras.io/apY/", "https://keras.io/Zpi/"]
    assert vote(readings) == "https://keras.io/api/"


def test_vote_ignores_non_links_and_uses_weights() -> None:
    assert vote(["e.g.", "setup.py"]) == ""
    assert vote([]) == ""
    assert vote(["e.g.", "https://keras.io/api"]) == "https://keras.io/api"
    assert vote(["https://keras.io/apl", "https://keras.io/api"], weights=[0.3, 0.9]) == "https://keras.io/api"
    with pytest.raises(ValueError):
        vote(["https://keras.io"], weights=[1.0, 2.0])


def test_vote_tie_goes_to_the_reading_closest_to_the_others() -> None:
    # All three tie at one vote; "api" is one edit from each of the others.
    assert vote(["https://keras.io/apl", "https://keras.io/api", "https://keras.io/apix"]) == "https://keras.io/api"
    assert vote(["https://keras.io/api", "https://keras.io/apl", "https://keras.io/apix"]) == "https://keras.io/api"
    # Equally central: the latest reading wins.
    assert vote(["https://a.org/x", "https://b.org/x"]) == "https://b.org/x"
    assert vote(["https://b.org/x", "https://a.org/x"]) == "https://a.org/x"


@pytest.mark.parametrize(("text", "lost"), [
    ("//www.jstor.org/stable/2530044.", True), ("(//www.r-project.org/).", True),
    ("http://www.r-project.org/", False), ("www.r-project.org", False), ("/doc/index.html", False),
])
def test_lost_scheme(text: str, lost: bool) -> None:
    assert lost_scheme(text) is lost


def test_page_scheme_is_what_most_links_print_and_none_without_a_majority() -> None:
    assert page_scheme(["http://a.org/x", "hitp:/Awww.b.org/y", "https://c.org/z", "//d.org/w"]) == "http"
    assert page_scheme(["https://a.org/x", "//b.org/y"]) == "https"
    assert page_scheme(["http://a.org/x", "https://c.org/z"]) is None
    assert page_scheme(["www.a.org", "//b.org/y", "ftp://ftp.gnu.org/gnu"]) is None
    assert with_scheme("https://www.jstor.org/stable/1", "http") == "http://www.jstor.org/stable/1"
