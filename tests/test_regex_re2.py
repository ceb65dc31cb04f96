"""RE2 semantics of TF's regex ops (RegexReplace, StaticRegexReplace, RegexFullMatch, StaticRegexFullMatch):
RE2's syntax (no backreferences or lookaround: TF's "Invalid pattern" InvalidArgumentError), RE2's rewrite
strings (`\\0`..`\\9`, `\\\\`), RE2::GlobalReplace's empty matches, UTF-8 characters rather than bytes, and
`$` at the very end only: each case is one Python `re` gets differently, checked against real TF."""
from __future__ import annotations

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

TEXTS = ["abxd", "hello world", "héllo wörld", "a\n", "aaa", "", "foo123bar45", "ab ab  ab", "A-B_c"]

# (pattern, rewrite): replaced globally and once, in graphcompat and TF
REPLACE_CASES = [
    ("x*", "-"),                 # empty matches: RE2 skips the one right after a match, Python takes it
    ("", "-"),                   # the empty pattern between every UTF-8 character
    ("a*", "<\\0>"),             # \0 is the whole match in RE2 (Python: \g<0>)
    ("(\\w+) (\\w+)", "\\2 \\1"),
    ("(b)", "\\\\\\1"),          # \\ is a backslash
    ("(o)", "\\2"),              # a group the pattern lacks: RE2 refuses, nothing changes
    ("(o)", "[\\g<1>]"),         # Python's \g<1> is an invalid RE2 rewrite: it stops there
    ("o", "\\n"),                # so is \n
    (".", "x"),                  # . is one UTF-8 character, not one byte
    ("a$", "Z"),                 # $ is the very end (Python's also matches before a final \n)
    ("^", ">"),
    ("\\b", "|"),
    ("\\d+", "#"),
    ("(?i)A", "@"),
    ("\\pL+", "L"),              # Unicode classes (Python re has none)
    ("[[:alpha:]]+", "w"),       # POSIX classes inside brackets
    ("\\Qa-b\\E|\\QA-B\\E", "="),  # quoted literal text
    ("(a)|(b)", "[\\1\\2]"),     # an unmatched group inserts nothing
    ("ö", "oe"),
    ("[(?<]", "_"),             # (?< in a class is no group
]

INVALID_PATTERNS = [
    "(a)\\1",        # backreference
    "a(?=b)",        # lookahead
    "(?<=a)b",       # lookbehind
    "(?!a)",
    "a*+",           # possessive
    "a{2,1}",
    "(a",
    "[z-a]",
    "\\",
    "(?P<n>a)(?P=n)",
    "(?<n>a)",       # TF's RE2 predates this spelling of a named group
    "(?<!a)b",
    "x(?<=a",
    "a**(?<n>b)",    # the earlier error wins
    "[(?<]\\Q(?<\\E(?<n>a)",
    "\\(?<n>a)",
]

FULL_MATCH_PATTERNS = ["a.*", ".*", "h.llo world", "a$", "a\\n", "\\w+", "\\pL+ \\pL+", "ab|abc", "(?s)a.", "[[:digit:]]+"]


def _texts(lib):
    return lib.constant(TEXTS)


def _build_replace(lib):
    out = []
    for pattern, rewrite in REPLACE_CASES:
        s = _texts(lib)
        out.append(lib.strings.regex_replace(s, pattern, rewrite))
        out.append(lib.strings.regex_replace(s, pattern, rewrite, replace_global=False))
        out.append(lib.strings.regex_replace(s, lib.constant(pattern), lib.constant(rewrite)))
        out.append(lib.strings.regex_replace(s, lib.constant(pattern), rewrite, replace_global=False))
    return out


def _build_full_match(lib):
    out = []
    for pattern in FULL_MATCH_PATTERNS:
        out.append(lib.strings.regex_full_match(_texts(lib), pattern))
        out.append(lib.strings.regex_full_match(_texts(lib), lib.constant(pattern)))
    return out


def _op_types(lib, build):
    graph = lib.Graph()
    with graph.as_default():
        build(lib)
    return [(op.name, op.type) for op in graph.get_operations()]


@pytest.mark.oracle
@pytest.mark.parametrize("build", [_build_replace, _build_full_match], ids=["replace", "full_match"])
def test_regex_ops_match_tf(build):
    tf1 = oracle.tf1()
    got, want = oracle.run(tf, build), oracle.run(tf1, build)
    labels = [c for c in (REPLACE_CASES if build is _build_replace else FULL_MATCH_PATTERNS) for _ in range(
        4 if build is _build_replace else 2)]
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tolist() == w.tolist(), (labels[k], k % 4, g.tolist(), w.tolist())
    assert _op_types(tf, build) == _op_types(tf1, build)


def _error(lib, build):
    with pytest.raises(Exception) as info:
        oracle.run(lib, build)
    return type(info.value).__name__, info.value.message if hasattr(info.value, "message") else str(info.value)


@pytest.mark.oracle
@pytest.mark.parametrize("pattern", INVALID_PATTERNS)
@pytest.mark.parametrize("kind", ["static_replace", "replace", "static_full_match", "full_match"])
def test_invalid_patterns_raise_tfs_error(pattern, kind):
    tf1 = oracle.tf1()

    def build(lib):
        s = lib.constant(["ab"])
        if kind == "static_replace":
            return lib.strings.regex_replace(s, pattern, "x")
        if kind == "replace":
            return lib.strings.regex_replace(s, lib.constant(pattern), "x")
        if kind == "static_full_match":
            return lib.strings.regex_full_match(s, pattern)
        return lib.strings.regex_full_match(s, lib.constant(pattern))

    got_class, got_text = _error(tf, build)
    want_class, want_text = _error(tf1, build)
    assert got_class == want_class == "InvalidArgumentError"
    assert got_text.startswith("Invalid pattern: ")
    assert got_text.splitlines()[0] in want_text.splitlines(), (got_text, want_text)


def test_re2_semantics_without_tf():
    """The cases above, spelled out (so they hold where TF is absent)."""
    with tf.Graph().as_default(), tf.Session() as sess:
        s = tf.constant(["abxd", "héllo", "a\n"])
        got = sess.run([tf.strings.regex_replace(s, "x*", "-"),
                        tf.strings.regex_replace(s, ".", "x"),
                        tf.strings.regex_replace(s, "a$", "Z"),
                        tf.strings.regex_replace(s, "(a)", "<\\0\\1>"),
                        tf.strings.regex_replace(s, "(a)", "\\2"),
                        tf.strings.regex_full_match(s, "\\pL+")])
    assert got[0].tolist() == [b"-a-b-d-", b"-h-\xc3\xa9-l-l-o-", b"-a-\n-"]
    assert got[1].tolist() == [b"xxxx", b"xxxxx", b"x\n"]
    assert got[2].tolist() == [b"abxd", b"h\xc3\xa9llo", b"a\n"]
    assert got[3].tolist() == [b"<aa>bxd", b"h\xc3\xa9llo", b"<aa>\n"]
    assert got[4].tolist() == [b"abxd", b"h\xc3\xa9llo", b"a\n"]
    assert got[5].tolist() == [True, True, False]
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid pattern: a\(\?=b\), error: invalid perl "
                                                                 r"operator: \(\?="):
            sess.run(tf.strings.regex_full_match(tf.constant(["ab"]), "a(?=b)"))
    assert np.asarray(got[5]).dtype == np.bool_
