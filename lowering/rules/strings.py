"""Lowerings of the tf.strings ops (graphcompat/ops/string_ops.py): host rules on numpy object arrays
of bytes (strings never enter jitted code). Semantics and messages follow TF's kernels
(string_join_op.cc, string_split_op.cc, substr_op.cc, regex_replace_op.cc, string_to_number_op.cc,
string_to_hash_bucket_op.cc, string_format_op.cc, reduce_join_op.cc, as_string_op.cc); hashes are
lowering/hashing.py's exact ports. Regular expressions are RE2's (the `google-re2` wheel), as TF's kernels:
Python's `re` accepts what RE2 refuses (backreferences, lookaround) and matches empty strings and rewrites
(`\\1`, `\\0`) differently, so only RE2 gives TF's matches and "Invalid pattern" errors.
"""
from __future__ import annotations

import functools
import re

import jax

import re2

import numpy as np

from graphcompat.framework import errors
from lowering import hashing
from lowering.interpreter import require
from lowering.rules.checks import shape_str
from lowering.registry import lowers
from lowering.rules.data_dependent import summarize_v2

_INVALID = errors.InvalidArgumentError
_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = re2._re2.RE2.Anchor.ANCHOR_BOTH


def _bytes(v) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


def _strings(x) -> np.ndarray:
    return np.asarray(x, dtype=object)


def _map(fn, x, otype=object) -> np.ndarray:
    arr = _strings(x)
    out = np.empty(arr.shape, dtype=otype)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = fn(_bytes(v))
    return out


@lowers("StringJoin", host=True)
def string_join(*inputs, separator="", **_):
    arrays = [_strings(x) for x in inputs]
    shapes = {a.shape for a in arrays if a.ndim}
    require(len(shapes) <= 1, _INVALID, lambda: "Input shapes do not match: " + " vs. ".join(
        f"[{','.join(map(str, s))}]" for s in shapes))
    shape = next(iter(shapes)) if shapes else ()
    sep = separator.encode()
    parts = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    out = np.array([sep.join(_bytes(p[i]) for p in parts) for i in range(int(np.prod(shape, dtype=np.int64)))],
                   dtype=object)
    return out.reshape(shape)


@lowers("StringSplitV2", host=True)
def string_split_v2(input, sep, *, maxsplit=-1, **_):  # noqa: A002
    sep = _bytes(np.asarray(sep, dtype=object).reshape(-1)[0]) if np.size(sep) else b""
    rows = [_bytes(v) for v in _strings(input).reshape(-1)]
    indices, values, width = [], [], 0
    for r, s in enumerate(rows):
        if sep:
            tokens = s.split(sep, maxsplit) if maxsplit >= 0 else s.split(sep)
        else:  # whitespace runs, no empty tokens (Python's split() without a separator)
            tokens = s.split(None, maxsplit) if maxsplit >= 0 else s.split()
        for c, t in enumerate(tokens):
            indices.append((r, c))
            values.append(t)
        width = max(width, len(tokens))
    return (np.array(indices, np.int64).reshape(-1, 2), np.array(values, dtype=object).reshape(-1),
            np.array([len(rows), width], np.int64))


def _utf8_starts(s: bytes) -> list:
    """Byte offsets of each UTF-8 character of `s` (continuation bytes are 0b10xxxxxx)."""
    return [i for i, b in enumerate(s) if b & 0xC0 != 0x80]


@lowers("Substr", host=True)
def substr(input, pos, length, *, unit="BYTE", **_):  # noqa: A002
    arr = _strings(input)
    shape = np.broadcast_shapes(arr.shape, np.shape(pos), np.shape(length))
    strings = np.broadcast_to(arr, shape).reshape(-1)
    positions = np.broadcast_to(np.asarray(pos), shape).reshape(-1)
    lengths = np.broadcast_to(np.asarray(length), shape).reshape(-1)
    out = np.empty(strings.size, dtype=object)
    for i, (s, p, n) in enumerate(zip(strings, positions, lengths)):
        s, p, n = _bytes(s), int(p), int(n)
        if unit == "UTF8_CHAR":
            starts = _utf8_starts(s) + [len(s)]
            count = len(starts) - 1
            # TF counts a negative pos back from the end, and then fails a negative length too (its
            # UpdatePosAndLenForUtf8 walks `len` characters forward from pos only for pos >= 0)
            ok = not (p < 0 and n < 0)
            p = p + count if p < 0 else p
            require(ok and 0 <= p <= count, _INVALID,
                    lambda p=p, s=s, i=i: f"pos {int(positions[i])} out of range for string at index {i}")
            end = min(p + max(n, 0), count)
            out[i] = s[starts[p]:starts[end]]
        else:
            size = len(s)
            q = p + size if p < 0 else p
            require(0 <= q <= size, _INVALID,
                    lambda s=s, i=i: f"pos {int(positions[i])} out of range for string b'{s.decode('latin-1')}' "
                                     f"at index {i}")
            # TF's StringPiece::substr takes the length as size_t: a negative one reaches the end
            out[i] = s[q:] if n < 0 else s[q:q + n]
    return out.reshape(shape)


@lowers("StringLength", host=True)
def string_length(input, *, unit="BYTE", **_):  # noqa: A002
    if unit == "UTF8_CHAR":
        return _map(lambda s: sum(1 for b in s if b & 0xC0 != 0x80), input, np.int32)
    return _map(len, input, np.int32)


def _case(method: str):
    def rule(input, *, encoding="", **_):  # noqa: A002
        if encoding:  # "utf-8": Unicode case mapping
            return _map(lambda s: getattr(s.decode("utf-8"), method)().encode("utf-8"), input)
        return _map(lambda s: getattr(s, method)(), input)  # ASCII only, as TF without an encoding
    return rule


lowers("StringLower", host=True)(_case("lower"))
lowers("StringUpper", host=True)(_case("upper"))


@lowers("StringStrip", host=True)
def string_strip(input, **_):  # noqa: A002
    return _map(lambda s: s.strip(b" \t\n\v\f\r"), input)


def _compile(pattern):
    """An RE2 program with TF's (RE2's default) options; TF's InvalidArgumentError for a pattern RE2 refuses."""
    pattern = _bytes(pattern)
    opener = _first_angle_group(pattern)
    if opener is None:
        regex = _compiled_re2(pattern)
        error = None if regex.ok() else regex.error()
    else:
        # TF's RE2 predates `(?<name>...)` (RE2 2023-07): it refuses every `(?<` as "invalid perl operator: (?<",
        # where the wheel's RE2 accepts a named group and names `(?<=`/`(?<!`. Spelled as a lookbehind there,
        # the first `(?<` makes the wheel stop at the same place, so an error before it stays the wheel's.
        regex = None
        error = _compiled_re2(pattern[:opener] + b"(?<=" + pattern[opener + 3:]).error()
        if error.startswith(b"invalid perl operator: (?<"):
            error = b"invalid perl operator: (?<"
    if error is not None:
        raise _INVALID(None, None, f"Invalid pattern: {pattern.decode('utf-8', 'replace')}, error: "
                                   f"{error.decode('utf-8', 'replace')}")
    return regex


def _first_angle_group(pattern: bytes) -> int | None:
    """Where the first `(?<` that RE2's parser reads as a group opens (not escaped, quoted with \\Q..\\E,
    or inside a bracket class), or None."""
    k, n = 0, len(pattern)
    while k < n:
        c = pattern[k:k + 1]
        if pattern.startswith(b"\\Q", k):
            end = pattern.find(b"\\E", k + 2)
            k = n if end < 0 else end + 2
        elif c == b"\\":
            k += 2
        elif c == b"[":
            k += 1
            if pattern.startswith(b"^", k):
                k += 1
            if pattern.startswith(b"]", k):     # a leading ] is a literal
                k += 1
            while k < n and pattern[k:k + 1] != b"]":
                if pattern.startswith(b"[:", k) and pattern.find(b":]", k + 2) >= 0:
                    k = pattern.find(b":]", k + 2) + 2
                else:
                    k += 2 if pattern[k:k + 1] == b"\\" else 1
            k += 1
        elif pattern.startswith(b"(?<", k):
            return k
        else:
            k += 1
    return None


@functools.lru_cache(maxsize=256)
def _compiled_re2(pattern: bytes):
    options = re2.Options()
    options.log_errors = False     # TF's RE2 logs refused patterns to stderr too; the error text carries it
    return re2._re2.RE2(pattern, options)


def _search(regex, text: bytes, pos: int):
    """The spans (start, end) of the whole match and each group of RE2's unanchored match in text[pos:]
    (`^` and `\\b` still see the whole text, as RE2::Match's startpos), or None."""
    spans = regex.Match(_UNANCHORED, text, pos, len(text))
    return None if spans[0][0] < 0 else spans


def _max_submatch(rewrite: bytes) -> int:
    """RE2::MaxSubmatch: the highest `\\N` (one digit) the rewrite names."""
    highest, k = 0, 0
    while k < len(rewrite):
        if rewrite[k] == 0x5C and k + 1 < len(rewrite):
            if 0x30 <= rewrite[k + 1] <= 0x39:
                highest = max(highest, rewrite[k + 1] - 0x30)
            k += 2
        else:
            k += 1
    return highest


def _expand(rewrite: bytes, text: bytes, spans) -> tuple[bytes, bool]:
    """RE2::Rewrite: `\\0`..`\\9` insert a group (an unmatched group inserts nothing), `\\\\` a backslash;
    any other backslash stops the rewrite there, and it reports failure (what precedes stays written)."""
    out, k = bytearray(), 0
    while k < len(rewrite):
        c = rewrite[k]
        if c != 0x5C:
            out.append(c)
            k += 1
            continue
        nxt = rewrite[k + 1] if k + 1 < len(rewrite) else -1
        if 0x30 <= nxt <= 0x39:
            start, end = spans[nxt - 0x30]
            if start >= 0:
                out += text[start:end]
        elif nxt == 0x5C:
            out.append(0x5C)
        else:
            return bytes(out), False
        k += 2
    return bytes(out), True


def _utf8_length(text: bytes, pos: int) -> int:
    """The bytes of the UTF-8 character at pos (1 for a byte that does not start a valid one), which
    RE2::GlobalReplace skips after an empty match at the end of the previous match."""
    for n in (1, 2, 3, 4):
        try:
            text[pos:pos + n].decode("utf-8")
            return n
        except UnicodeDecodeError:
            continue
    return 1


def _replace_one(regex, text: bytes, rewrite: bytes) -> bytes:
    """RE2::Replace: the first match only; unchanged when nothing matches or the rewrite is invalid."""
    spans = _search(regex, text, 0)
    if spans is None:
        return text
    replacement, ok = _expand(rewrite, text, spans)
    if not ok:
        return text
    return text[:spans[0][0]] + replacement + text[spans[0][1]:]


def _replace_all(regex, text: bytes, rewrite: bytes) -> bytes:
    """RE2::GlobalReplace: every non-overlapping match left to right; an empty match right where the previous
    match ended is skipped (Python's `re.sub` takes it), one UTF-8 character at a time."""
    out, p, last_end, count = bytearray(), 0, None, 0
    while p <= len(text):
        spans = _search(regex, text, p)
        if spans is None:
            break
        start, end = spans[0]
        out += text[p:start]
        if start == end and start == last_end:
            step = _utf8_length(text, p) if p < len(text) else 1
            out += text[p:p + step]
            p += step
            continue
        replacement, _ = _expand(rewrite, text, spans)   # GlobalReplace ignores a failed rewrite's status
        out += replacement
        p = last_end = end
        count += 1
    if count == 0:
        return text
    return bytes(out) + text[p:]


def _regex_replace(input, pattern, rewrite, replace_global):  # noqa: A002
    regex, rewrite = _compile(pattern), _bytes(rewrite)
    if _max_submatch(rewrite) > regex.NumberOfCapturingGroups():
        # RE2 refuses a rewrite naming a group the pattern lacks: every string stays as it is
        return _map(lambda s: s, input)
    replace = _replace_all if replace_global else _replace_one
    return _map(lambda s: replace(regex, s, rewrite), input)


@lowers("StaticRegexReplace", host=True)
def static_regex_replace(input, *, pattern, rewrite, replace_global=True, **_):  # noqa: A002
    return _regex_replace(input, pattern, rewrite, replace_global)


@lowers("RegexReplace", host=True)
def regex_replace(input, pattern, rewrite, *, replace_global=True, **_):  # noqa: A002
    require(np.ndim(pattern) == 0, _INVALID, "Pattern must be scalar, but received " + str(list(np.shape(pattern))))
    require(np.ndim(rewrite) == 0, _INVALID, "Rewrite must be scalar, but received " + str(list(np.shape(rewrite))))
    return _regex_replace(input, np.asarray(pattern, dtype=object)[()], np.asarray(rewrite, dtype=object)[()],
                          replace_global)


@lowers("StaticRegexFullMatch", host=True)
def static_regex_full_match(input, *, pattern, **_):  # noqa: A002
    regex = _compile(pattern)
    return _map(lambda s: _full_match(regex, s), input, np.bool_)


@lowers("RegexFullMatch", host=True)
def regex_full_match(input, pattern, **_):  # noqa: A002
    require(np.ndim(pattern) == 0, _INVALID, "Pattern must be scalar, but received " + str(list(np.shape(pattern))))
    regex = _compile(np.asarray(pattern, dtype=object)[()])
    return _map(lambda s: _full_match(regex, s), input, np.bool_)


def _full_match(regex, text: bytes) -> bool:
    return regex.Match(_ANCHOR_BOTH, text, 0, len(text))[0][0] >= 0


_NUMBER = re.compile(rb"\s*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)\s*", re.IGNORECASE)
_INTEGER = re.compile(rb"\s*[-+]?\d+\s*")


@lowers("StringToNumber", host=True)
def string_to_number(string_tensor, *, out_type=np.float32, **_):
    out_type = np.dtype(out_type)
    integer = out_type.kind == "i"
    info = np.iinfo(out_type) if integer else None

    def parse(s: bytes):
        ok = (_INTEGER if integer else _NUMBER).fullmatch(s) is not None
        value = (int(s) if integer else float(s)) if ok else None
        if ok and integer:
            ok = info.min <= value <= info.max
        require(ok, _INVALID, lambda: f"StringToNumberOp could not correctly convert string: "
                                      f"{s.decode('utf-8', 'backslashreplace')}")
        return value
    return _map(parse, string_tensor, out_type)


@lowers("StringToHashBucketFast", host=True)
def string_to_hash_bucket_fast(input, *, num_buckets, **_):  # noqa: A002
    return _map(lambda s: hashing.fingerprint64(s) % num_buckets, input, np.int64)


@lowers("Fingerprint", host=True)
def fingerprint(data, method, **_):
    # TF's FingerprintOp: a row's fingerprint is Fingerprint64 of its bytes (little-endian, row-major); a
    # string row of one string hashes that string, a longer one the concatenated fingerprints of its strings
    require(np.ndim(method) == 0, _INVALID,
            lambda: f"`method` should be a scalar string: {shape_str(np.shape(method))}")
    name = np.asarray(method).item()
    name = name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else str(name)
    require(name == "farmhash64", _INVALID, lambda: f"Unsupported fingerprint method: {name}")
    data = np.asarray(data)
    rows = data.reshape(data.shape[0], int(np.prod(data.shape[1:], dtype=np.int64)))  # -1 fails for 0 rows
    out = np.zeros((data.shape[0], 8), np.uint8)
    for i, row in enumerate(rows):
        if data.dtype == object or data.dtype.kind in "SU":
            strings = [s if isinstance(s, bytes) else str(s).encode() for s in row]
            payload = strings[0] if data.ndim == 1 else \
                b"".join(hashing.fingerprint64(s).to_bytes(8, "little") for s in strings)
        else:
            payload = np.ascontiguousarray(row).astype(row.dtype.newbyteorder("<")).tobytes()
        out[i] = np.frombuffer(hashing.fingerprint64(payload).to_bytes(8, "little"), np.uint8)
    return out


@lowers("StringToHashBucketStrong", host=True)
def string_to_hash_bucket_strong(input, *, num_buckets, key, **_):  # noqa: A002
    k0, k1 = (int(k) & ((1 << 64) - 1) for k in key)
    return _map(lambda s: hashing.siphash(k0, k1, s) % num_buckets, input, np.int64)


@lowers("StringToHashBucket", host=True)
def string_to_hash_bucket(string_tensor, *, num_buckets, **_):
    return _map(lambda s: hashing.hash64(s) % num_buckets, string_tensor, np.int64)


class DeferredFormat:
    """A StringFormat evaluated inside compiled code: its traced inputs and attrs, formatted on the host
    by the PrintV2 that prints it (jax.debug.callback), so a step with tf.print still compiles."""

    def __init__(self, inputs, template: str, placeholder: str, summarize: int):
        self.inputs, self.template, self.placeholder, self.summarize = list(inputs), template, placeholder, summarize

    def text(self, values) -> bytes:
        return _format(values, self.template, self.placeholder, self.summarize)


def only_printed(op) -> bool:
    """A StringFormat whose string only feeds PrintV2 ops (what tf.print records)."""
    consumers = op._outputs[0]._consumers
    return bool(consumers) and all(c.type == "PrintV2" for c in consumers)


def _format(inputs, template, placeholder, summarize) -> bytes:
    pieces = template.split(placeholder)
    require(len(pieces) - 1 == len(inputs), _INVALID,
            lambda: f"num placeholders in template and num inputs must match: {len(pieces) - 1} vs. {len(inputs)}")
    text = pieces[0]
    for value, piece in zip(inputs, pieces[1:]):
        text += summarize_v2(value, summarize) + piece
    return text.encode()


@lowers("StringFormat", context=True, host=lambda op: not only_printed(op))
def string_format(ctx, op, *inputs):
    inputs = [ctx.deref(v) for v in inputs]
    template, placeholder = op.attrs["template"], op.attrs["placeholder"]
    summarize = op.attrs.get("summarize", 3)
    if ctx.traced or any(isinstance(v, jax.core.Tracer) for v in inputs):
        return DeferredFormat(inputs, template, placeholder, summarize)
    return np.array(_format(inputs, template, placeholder, summarize), dtype=object)


@lowers("ReduceJoin", host=True)
def reduce_join(inputs, reduction_indices, *, keep_dims=False, separator="", **_):
    arr = _strings(inputs)
    rank = arr.ndim
    axes = [int(a) for a in np.asarray(reduction_indices).reshape(-1)]
    for a in axes:
        require(-rank <= a < rank, _INVALID,
                lambda a=a: f"Invalid reduction dimension {a} for input with {rank} dimensions")
    reduced = sorted({a % rank for a in axes})
    kept = [d for d in range(rank) if d not in reduced]
    moved = np.transpose(arr, kept + reduced).reshape([arr.shape[d] for d in kept] + [-1])
    sep = separator.encode()
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(*moved.shape[:-1]):
        out[index] = sep.join(_bytes(v) for v in moved[index])
    if keep_dims:
        out = out.reshape([1 if d in reduced else arr.shape[d] for d in range(rank)])
    return out


@lowers("AsString", host=True)
def as_string(input, *, precision=-1, scientific=False, shortest=False, width=-1, fill="", **_):  # noqa: A002
    arr = np.asarray(input)
    kind = arr.dtype.kind
    require(not (kind in "iub" and (scientific or shortest)), _INVALID,
            lambda: f"Cannot select scientific or shortest for non-float type {arr.dtype}")
    require(not (kind in "iub" and precision > -1), _INVALID,
            lambda: f"Cannot select precision for non-float type {arr.dtype}")
    require(not (scientific and shortest), _INVALID, "Cannot select both scientific and shortest notation")
    require(len(fill) <= 1, _INVALID, lambda: f"Fill string must be one or fewer characters: {fill}")
    require(fill in ("", " ", "+", "-", "0", "#"), _INVALID, lambda: f"Fill argument not supported: \"{fill}\"")
    spec = "%" + fill + (str(width) if width > -1 else "") + (f".{precision}" if precision > -1 else "")
    if kind == "b":
        return _map_values(arr, lambda v: (spec + "s") % ("true" if v else "false"))
    if kind in "iu":
        return _map_values(arr, lambda v: (spec + "d") % int(v))
    conv = "g" if shortest else "e" if scientific else "f"
    if kind == "c":
        return _map_values(arr, lambda v: ("(" + spec + conv + "," + spec + conv + ")") % (v.real, v.imag))
    return _map_values(arr, lambda v: (spec + conv) % float(v))


def _map_values(arr: np.ndarray, fn) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    for index in np.ndindex(*arr.shape):
        out[index] = fn(arr[index]).encode()
    return out
