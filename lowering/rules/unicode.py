"""Host lowerings of graphcompat/ops/unicode_ops.py: UnicodeDecode(WithOffsets), UnicodeEncode,
UnicodeTranscode, UnicodeScript, StringNGrams (TF's unicode_ops.cc and string_ngrams_op.cc semantics).

TF decodes through ICU converters. Ours are written out for UTF-8, UTF-16-BE and UTF-32-BE and match ICU's
error handling: an ill-formed UTF-8 sequence is replaced per *maximal subpart* (Unicode's recommended
practice, which ICU follows: `\\xe2\\x82` is one error, `\\xc0\\xaf` two), an unpaired UTF-16 surrogate or
an out-of-range UTF-32 unit is one error of its own width, and a truncated tail is one error.
UnicodeScript uses graphcompat's table of ICU UScriptCodes (lowering/rules/unicode_scripts.py).
"""
from __future__ import annotations

import codecs
from typing import Iterator, Optional, Tuple

import numpy as np

from graphcompat.framework import errors
from graphcompat.framework.kernel_util import canonical_encoding
from lowering.registry import lowers

_INVALID = errors.InvalidArgumentError
_MAX = 0x10FFFF


def _bytes(v) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)


def _attr(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------------------------------
# Decoders: yield (code point, or None for an ill-formed sequence, bytes consumed)
# ------------------------------------------------------------------------------------------------
def _utf8_second_range(lead: int) -> Tuple[int, int, int]:
    """(continuation bytes needed, low, high bound of the first continuation byte) for a lead byte;
    need 0 marks a byte that cannot start a sequence (Unicode's table 3-7 of well-formed UTF-8)."""
    if 0xC2 <= lead <= 0xDF:
        return 1, 0x80, 0xBF
    if lead == 0xE0:
        return 2, 0xA0, 0xBF
    if lead == 0xED:                              # no surrogates
        return 2, 0x80, 0x9F
    if 0xE1 <= lead <= 0xEF:
        return 2, 0x80, 0xBF
    if lead == 0xF0:
        return 3, 0x90, 0xBF
    if 0xF1 <= lead <= 0xF3:
        return 3, 0x80, 0xBF
    if lead == 0xF4:                              # nothing above U+10FFFF
        return 3, 0x80, 0x8F
    return 0, 0, 0


def _decode_utf8(s: bytes) -> Iterator[Tuple[Optional[int], int]]:
    i, n = 0, len(s)
    while i < n:
        lead = s[i]
        if lead < 0x80:
            yield lead, 1
            i += 1
            continue
        need, lo, hi = _utf8_second_range(lead)
        if need == 0:
            yield None, 1
            i += 1
            continue
        cp, j = lead & (0x3F >> need), i + 1
        while j < n and j - i <= need and (lo if j == i + 1 else 0x80) <= s[j] <= (hi if j == i + 1 else 0xBF):
            cp = (cp << 6) | (s[j] & 0x3F)
            j += 1
        if j - i == need + 1:
            yield cp, j - i
        else:                                     # the maximal well-formed prefix is one error
            yield None, j - i
        i = j


def _decode_utf16be(s: bytes) -> Iterator[Tuple[Optional[int], int]]:
    i, n = 0, len(s)
    while i < n:
        if n - i < 2:
            yield None, n - i
            return
        unit = (s[i] << 8) | s[i + 1]
        if 0xD800 <= unit <= 0xDBFF and n - i < 4:
            yield None, n - i                     # a truncated pair: ICU reports the whole tail as one error
            return
        if 0xD800 <= unit <= 0xDBFF:
            low = (s[i + 2] << 8) | s[i + 3]
            if 0xDC00 <= low <= 0xDFFF:
                yield 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 4
                i += 4
                continue
        yield (None if 0xD800 <= unit <= 0xDFFF else unit), 2
        i += 2


def _decode_utf32be(s: bytes) -> Iterator[Tuple[Optional[int], int]]:
    i, n = 0, len(s)
    while i < n:
        if n - i < 4:
            yield None, n - i
            return
        cp = int.from_bytes(s[i:i + 4], "big")
        yield (None if cp > _MAX or 0xD800 <= cp <= 0xDFFF else cp), 4
        i += 4


_DECODERS = {"UTF-8": _decode_utf8, "UTF-16-BE": _decode_utf16be, "UTF-32-BE": _decode_utf32be}
_CODECS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}


def _decoder(name):
    """The decoder for an input_encoding attr: TF's InvalidArgumentError for a name no converter has,
    NotImplementedError for a real encoding graphcompat does not emulate (an imported graph's)."""
    name = _attr(name)
    canonical = canonical_encoding(name)
    if canonical is not None:
        return _DECODERS[canonical]
    try:
        codecs.lookup(name)
    except LookupError:
        raise _INVALID(None, None, f"Could not create converter for input encoding: {name}") from None
    raise NotImplementedError(f"UnicodeDecode/UnicodeTranscode: input_encoding '{name}' is not supported by "
                              f"graphcompat (supported: UTF-8, UTF-16-BE, UTF-32-BE)")


def _replacement(replacement_char) -> int:
    rc = int(replacement_char)
    if not 0 <= rc <= _MAX:
        raise _INVALID(None, None, "replacement_char out of unicode codepoint range")
    return rc


def _encode_one(cp: int, encoding: str) -> bytes:
    # surrogatepass: a surrogate replacement_char is the one way a surrogate reaches here (TF lets ICU write it)
    return chr(cp).encode(_CODECS[encoding], "surrogatepass")


# ------------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------------
def _decode(input, input_encoding, errors_mode, replacement_char, replace_control_characters, splits_dtype,
            with_offsets):
    decode = _decoder(input_encoding)
    subst = _replacement(replacement_char)
    errors_mode = _attr(errors_mode)
    rows = np.asarray(input, dtype=object).reshape(-1)
    splits, chars, offsets = [0], [], []
    for v in rows:
        offset = 0
        for cp, width in decode(_bytes(v)):
            if cp is None and errors_mode == "strict":
                raise _INVALID(None, None, "Invalid formatting on input string")
            # TF's ShouldHandleFormatError: ill-formed input, or a C0 control when asked to replace those
            if cp is None or (replace_control_characters and cp <= 0x1F):
                if errors_mode == "ignore":
                    offset += width
                    continue
                cp = subst
            chars.append(cp)
            offsets.append(offset)
            offset += width
        splits.append(len(chars))
    out = [np.asarray(splits, dtype=splits_dtype), np.asarray(chars, dtype=np.int32)]
    if with_offsets:
        out.append(np.asarray(offsets, dtype=np.int64))
    return tuple(out)


@lowers("UnicodeDecode", host=True)
def unicode_decode(input, *, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                   replace_control_characters=False, Tsplits=None, **_):
    return _decode(input, input_encoding, errors, replacement_char, replace_control_characters,
                   np.dtype(Tsplits), with_offsets=False)


@lowers("UnicodeDecodeWithOffsets", host=True)
def unicode_decode_with_offsets(input, *, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                                replace_control_characters=False, Tsplits=None, **_):
    return _decode(input, input_encoding, errors, replacement_char, replace_control_characters,
                   np.dtype(Tsplits), with_offsets=True)


@lowers("UnicodeEncode", host=True)
def unicode_encode(input_values, input_splits, *, output_encoding, errors="replace", replacement_char=65533, **_):
    encoding, mode = _attr(output_encoding), _attr(errors)
    subst = _replacement(replacement_char)
    values = np.asarray(input_values).reshape(-1)
    splits = np.asarray(input_splits).reshape(-1)
    out = np.empty(max(splits.shape[0] - 1, 0), dtype=object)
    for i in range(out.shape[0]):
        parts = []
        for cp in values[int(splits[i]):int(splits[i + 1])].tolist():
            if cp < 0 or cp > _MAX or 0xD800 <= cp <= 0xDFFF:
                if mode == "strict":
                    raise _INVALID(None, None, "Code point is out of range for Unicode, or is a surrogate.")
                if mode == "ignore":
                    continue
                cp = subst
            parts.append(_encode_one(cp, encoding))
        out[i] = b"".join(parts)
    return out


@lowers("UnicodeTranscode", host=True)
def unicode_transcode(input, *, input_encoding, output_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                      replace_control_characters=False, **_):
    decode = _decoder(input_encoding)
    subst = _replacement(replacement_char)
    encoding, mode = _attr(output_encoding), _attr(errors)
    arr = np.asarray(input, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    failed = False
    for idx, v in np.ndenumerate(arr):
        parts = []
        for cp, _width in decode(_bytes(v)):
            # unlike decoding, a replaced control character also counts as an error for errors='strict'
            if cp is None or (replace_control_characters and cp <= 0x1F):
                failed = True
                if mode == "ignore":
                    continue
                cp = subst
            parts.append(_encode_one(cp, encoding))
        out[idx] = b"".join(parts)
    if failed and mode == "strict":
        raise _INVALID(None, None, "Invalid formatting on input string")
    return out


@lowers("UnicodeScript", host=True)
def unicode_script(input, **_):  # noqa: A002
    from lowering.rules import unicode_scripts  # a 1,300-range table: loaded by the first UnicodeScript run
    return unicode_scripts.scripts_of(np.asarray(input, dtype=np.int32))


@lowers("StringNGrams", host=True)
def string_ngrams(data, data_splits, *, separator, ngram_widths, left_pad, right_pad, pad_width,
                  preserve_short_sequences, **_):
    widths = [int(w) for w in ngram_widths]
    if any(w <= 0 for w in widths):
        raise _INVALID(None, None, "ngram_widths must contain positive values")
    tokens = [_bytes(v) for v in np.asarray(data, dtype=object).reshape(-1)]
    splits = np.asarray(data_splits)
    flat_splits = [int(s) for s in splits.reshape(-1)]
    size = len(tokens)
    if flat_splits:
        if flat_splits[0] != 0:
            raise _INVALID(None, None, f"First split value must be 0, got {flat_splits[0]}")
        prev = 0
        for s in flat_splits[1:]:
            if not prev <= s <= size:
                raise _INVALID(None, None, f"Invalid split value {s}, must be in [{prev}, {size}]")
            prev = s
        if prev != size:
            raise _INVALID(None, None, f"Last split value must be data size. Expected {size}, got {prev}")
    if size == 0 or not flat_splits:             # TF's kernel: no data, no n-grams (even padded ones)
        return np.zeros(0, dtype=object), np.zeros(splits.shape, splits.dtype)
    sep, lpad, rpad = _attr(separator).encode(), _attr(left_pad).encode(), _attr(right_pad).encode()
    pad_width, preserve = int(pad_width), bool(preserve_short_sequences)

    def pad_of(width: int) -> int:
        # never more than width - 1 pads a side; a negative pad_width means exactly that many
        return min(width - 1 if pad_width < 0 else pad_width, width - 1)

    def count(length: int, width: int) -> int:
        return max(0, length + 2 * pad_of(width) - width + 1)

    def grams(row: list, num: int, width: int) -> list:
        pad, out = pad_of(width), []
        for k in range(num):
            left = max(0, pad - k)
            right = max(0, pad - (num - (k + 1)))
            n_tokens = width - left - right
            start = 0 if left > 0 else k - pad
            out.append(sep.join([lpad] * left + row[start:start + n_tokens] + [rpad] * right))
        return out

    values, out_splits = [], [0]
    for i in range(len(flat_splits) - 1):
        row = tokens[flat_splits[i]:flat_splits[i + 1]]
        produced = []
        for width in widths:
            produced += grams(row, count(len(row), width), width)
        if preserve and not produced and row:
            if pad_width < 0:
                raise _INVALID(None, None, "Pad width should be >= 0 when preserve_short_sequences is True and "
                               f"ngram_widths are not provided, got {pad_width}")
            produced = grams(row, 1, len(row) + 2 * pad_width)
        values += produced
        out_splits.append(len(values))
    return (np.array(values, dtype=object).reshape(-1),
            np.asarray(out_splits, dtype=splits.dtype).reshape(splits.shape))
