"""`tf.strings` Unicode and n-gram functions: unicode_decode(_with_offsets), unicode_split(_with_offsets),
unicode_encode, unicode_transcode, unicode_script, bytes_split, ngrams.

Op types as TF 2.21 records them (UnicodeDecode, UnicodeDecodeWithOffsets, UnicodeEncode, UnicodeTranscode,
UnicodeScript, StringNGrams; bytes_split reuses StringSplit with an empty delimiter). The builders compose
them with RaggedTensor factories the way TF's python/ops/ragged/ragged_string_ops.py does: a rank-1 input
gives a RaggedTensor, a scalar a dense Tensor, a RaggedTensor input a RaggedTensor with the same row
partitions. Host lowerings in lowering/rules/unicode.py.
"""
from __future__ import annotations

import codecs
from typing import Optional, Sequence, Union

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import InferenceContext, apply_op, defop, unchanged_shape
from graphcompat.framework.kernel_util import canonical_encoding

_SPLITS = (_dt.int32, _dt.int64)
_ERRORS_DECODE = ("strict", "replace", "ignore")        # the orders TF's ValueError texts list them in
_ERRORS_ENCODE = ("ignore", "replace", "strict")
OUTPUT_ENCODINGS = ("UTF-8", "UTF-16-BE", "UTF-32-BE")


def _decode_shape(ctx: InferenceContext):
    n = ctx.shape(0).num_elements()
    shapes = [_ts.TensorShape([None if n is None else n + 1]), _ts.TensorShape([None])]
    return shapes + [_ts.TensorShape([None])] * (len(ctx.output_dtypes) - 2)


def _encode_shape(ctx: InferenceContext):
    values, splits = ctx.shape(0), ctx.shape(1)
    for s in (values, splits):
        if s.ndims is not None and s.ndims != 1:
            raise ctx.error(f"Shape must be rank 1 but is rank {s.ndims}")
    n = splits.dims[0].value if splits.ndims == 1 else None
    return [_ts.TensorShape([None if n is None else n - 1])]


def _ngrams_shape(ctx: InferenceContext):
    return [_ts.TensorShape([None]), ctx.shape(1)]


_DECODE_ATTRS = {"errors": "replace", "replacement_char": 65533, "replace_control_characters": False,
                 "Tsplits": _dt.int64}
defop("UnicodeDecode", "input: string -> row_splits: Tsplits, char_values: int32", attrs=dict(_DECODE_ATTRS),
      types={"Tsplits": _SPLITS}, shape=_decode_shape)
defop("UnicodeDecodeWithOffsets",
      "input: string -> row_splits: Tsplits, char_values: int32, char_to_byte_starts: int64",
      attrs=dict(_DECODE_ATTRS), types={"Tsplits": _SPLITS}, shape=_decode_shape)
defop("UnicodeEncode", "input_values: int32, input_splits: Tsplits -> output: string",
      attrs={"errors": "replace", "replacement_char": 65533, "Tsplits": _dt.int64}, types={"Tsplits": _SPLITS},
      shape=_encode_shape)
defop("UnicodeTranscode", "input: string -> output: string",
      attrs={"errors": "replace", "replacement_char": 65533, "replace_control_characters": False},
      shape=unchanged_shape)
defop("UnicodeScript", "input: int32 -> output: int32", shape=unchanged_shape)
defop("StringNGrams", "data: string, data_splits: Tsplits -> ngrams: string, ngrams_splits: Tsplits",
      attrs={"Tsplits": _dt.int64}, types={"Tsplits": _SPLITS}, shape=_ngrams_shape)


# ------------------------------------------------------------------------------------------------
# Attr checks (op_def_library's allowed-values texts) and encodings
# ------------------------------------------------------------------------------------------------
def _check_allowed(op_type: str, attr: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        listed = ", ".join(f'"{a}"' for a in allowed)
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed string '{value}' not in: {listed}.")


def _check_input_encoding(input_encoding, symbol: str) -> str:
    """UTF-8, UTF-16-BE and UTF-32-BE are implemented. Other names Python also knows as codecs (latin1,
    UTF-16 with a byte-order mark, ...) are ICU converters we do not emulate: NotImplementedError. Names
    nobody knows pass through: the kernel raises TF's InvalidArgumentError at run time, as TF's does."""
    input_encoding = input_encoding.decode() if isinstance(input_encoding, bytes) else str(input_encoding)
    if canonical_encoding(input_encoding) is None:
        try:
            codecs.lookup(input_encoding)
        except LookupError:
            return input_encoding
        raise NotImplementedError(f"{symbol}: input_encoding '{input_encoding}' is not supported by graphcompat "
                                  f"(supported: UTF-8, UTF-16-BE, UTF-32-BE)")
    return input_encoding


def _tf():
    import graphcompat
    return graphcompat


def _ragged():
    from graphcompat.ragged.ragged_tensor import RaggedTensor, RaggedTensorValue
    return RaggedTensor, RaggedTensorValue


def _to_tensor_or_ragged(value, dtype=None, name: Optional[str] = None):
    """TF's `convert_to_tensor_or_ragged_tensor`."""
    RaggedTensor, RaggedTensorValue = _ragged()
    if isinstance(value, RaggedTensorValue):
        return RaggedTensor._from_value(value)
    if isinstance(value, RaggedTensor):
        if dtype is not None and value.dtype != dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for RaggedTensor with dtype "
                             f"{value.dtype.name}: {value!r}")
        return value
    return convert_to_tensor(value, dtype, name=name)


def _with_flat_values(rt, new_values):
    """`rt.with_flat_values(new_values)` where `new_values` may itself be a RaggedTensor (as TF allows:
    the result nests one more ragged dimension)."""
    if _is_ragged(rt.values):
        return rt.with_values(_with_flat_values(rt.values, new_values))
    return rt.with_values(new_values)


def _is_ragged(value) -> bool:
    return isinstance(value, _ragged()[0])


# ------------------------------------------------------------------------------------------------
# Decoding
# ------------------------------------------------------------------------------------------------
def _unicode_decode(input, input_encoding: str, errors: str, replacement_char: int,  # noqa: A002
                    replace_control_characters: bool, with_offsets: bool):
    op_type = "UnicodeDecodeWithOffsets" if with_offsets else "UnicodeDecode"
    RaggedTensor = _ragged()[0]
    tf = _tf()
    input = _to_tensor_or_ragged(input, name="input")  # noqa: A001
    ndims = input.shape.ndims
    if ndims is None:
        raise ValueError("Rank of `input` must be statically known.")
    if ndims > 1:
        if not _is_ragged(input):
            input = RaggedTensor.from_tensor(input, ragged_rank=ndims - 1)  # noqa: A001
        elif input.ragged_rank < ndims - 1:
            input = _with_flat_values(input, RaggedTensor.from_tensor(  # noqa: A001
                input.flat_values, ragged_rank=ndims - input.ragged_rank - 1))
    flat = tf.reshape(input.flat_values if _is_ragged(input) else input, [-1])
    _check_allowed(op_type, "errors", errors, _ERRORS_DECODE)
    outs = apply_op(op_type, [flat], {"input_encoding": input_encoding, "errors": errors,
                                      "replacement_char": int(replacement_char),
                                      "replace_control_characters": bool(replace_control_characters)})
    splits, chars = outs[0], outs[1]
    results = [chars] + ([outs[2]] if with_offsets else [])
    if ndims != 0:
        results = [RaggedTensor.from_row_splits(r, splits, validate=False) for r in results]
        if ndims > 1:
            results = [_with_flat_values(input, r) for r in results]
    return tuple(results) if with_offsets else results[0]


def unicode_decode(input, input_encoding: str, errors: str = "replace", replacement_char: int = 0xFFFD,  # noqa: A002
                   replace_control_characters: bool = False, name: Optional[str] = None):
    """`tf.strings.unicode_decode`: the code points of each string (int32), ragged in a new last axis."""
    input_encoding = _check_input_encoding(input_encoding, "tf.strings.unicode_decode")
    with _ops.name_scope(name, "UnicodeDecode", [input]):
        return _unicode_decode(input, input_encoding, errors, replacement_char, replace_control_characters,
                               with_offsets=False)


def unicode_decode_with_offsets(input, input_encoding: str, errors: str = "replace",  # noqa: A002
                                replacement_char: int = 0xFFFD, replace_control_characters: bool = False,
                                name: Optional[str] = None):
    """`tf.strings.unicode_decode_with_offsets`: (code points, int64 byte offsets where each starts)."""
    input_encoding = _check_input_encoding(input_encoding, "tf.strings.unicode_decode_with_offsets")
    with _ops.name_scope(name, "UnicodeDecodeWithOffsets", [input]):
        return _unicode_decode(input, input_encoding, errors, replacement_char, replace_control_characters,
                               with_offsets=True)


def _expand_last(codepoints):
    """TF's `ragged_array_ops.expand_dims(codepoints, -1)` (dense codepoints: a plain expand_dims)."""
    tf = _tf()
    if _is_ragged(codepoints):
        return _with_flat_values(codepoints, tf.expand_dims(codepoints.flat_values, -1))
    return tf.expand_dims(codepoints, -1)


def unicode_split(input, input_encoding: str, errors: str = "replace", replacement_char: int = 0xFFFD,  # noqa: A002
                  name: Optional[str] = None):
    """`tf.strings.unicode_split`: each string cut into the substrings that encode its characters
    (invalid sequences become the replacement character, encoded)."""
    input_encoding = _check_input_encoding(input_encoding, "tf.strings.unicode_split")
    with _ops.name_scope(name, "UnicodeSplit", [input]):
        codepoints = _unicode_decode(input, input_encoding, errors, replacement_char, False, with_offsets=False)
        return unicode_encode(_expand_last(codepoints), output_encoding=_output_name(input_encoding),
                              errors=errors, replacement_char=replacement_char)


def unicode_split_with_offsets(input, input_encoding: str, errors: str = "replace",  # noqa: A002
                               replacement_char: int = 0xFFFD, name: Optional[str] = None):
    """`tf.strings.unicode_split_with_offsets`: (character substrings, int64 byte offsets)."""
    input_encoding = _check_input_encoding(input_encoding, "tf.strings.unicode_split_with_offsets")
    with _ops.name_scope(name, "UnicodeSplitWithOffsets", [input]):
        codepoints, offsets = _unicode_decode(input, input_encoding, errors, replacement_char, False,
                                              with_offsets=True)
        chars = unicode_encode(_expand_last(codepoints), output_encoding=_output_name(input_encoding),
                               errors=errors, replacement_char=replacement_char)
        return chars, offsets


def _output_name(input_encoding: str) -> str:
    # TF passes input_encoding on as UnicodeEncode's output_encoding, whose allowed values are spelled
    # exactly: TF itself rejects "utf-8" there with the attr's ValueError, and so do we.
    return input_encoding


# ------------------------------------------------------------------------------------------------
# Encoding, transcoding, scripts
# ------------------------------------------------------------------------------------------------
def unicode_encode(input, output_encoding: str, errors: str = "replace", replacement_char: int = 65533,  # noqa: A002
                   name: Optional[str] = None) -> Union[_ops.Tensor, object]:
    """`tf.strings.unicode_encode`: each innermost row of code points encoded as one string."""
    tf = _tf()
    RaggedTensor = _ragged()[0]
    with _ops.name_scope(name, "UnicodeEncode", [input]):
        x = _to_tensor_or_ragged(input)
        if x.shape.ndims is None:
            raise ValueError("Rank of input_tensor must be statically known.")
        if _is_ragged(x):
            if x.flat_values.shape.ndims > 1:
                return _with_flat_values(x, unicode_encode(x.flat_values, output_encoding, errors, replacement_char))
            if x.ragged_rank > 1:
                return x.with_values(unicode_encode(x.values, output_encoding, errors, replacement_char))
            _check_allowed("UnicodeEncode", "errors", errors, _ERRORS_ENCODE)
            _check_allowed("UnicodeEncode", "output_encoding", output_encoding, OUTPUT_ENCODINGS)
            return apply_op("UnicodeEncode", [x.values, x.row_splits],
                            {"output_encoding": output_encoding, "errors": errors,
                             "replacement_char": int(replacement_char)})
        ndims = x.shape.ndims
        if ndims == 2:
            return unicode_encode(RaggedTensor.from_tensor(x), output_encoding, errors, replacement_char)
        if ndims > 2:
            flat_x = tf.reshape(x, tf.stack([-1, tf.shape(x)[-1]]))
            flat_out = unicode_encode(flat_x, output_encoding, errors, replacement_char)
            return tf.reshape(flat_out, x.shape[:-1])
        if ndims == 0:
            raise ValueError("input_tensor's rank must be at least 1.")
        rows = RaggedTensor.from_row_splits(x, tf.stack([0, tf.shape(x, out_type=_dt.int32)[0]]), validate=False)
        return tf.reshape(unicode_encode(rows, output_encoding, errors, replacement_char), [])


def unicode_transcode(input, input_encoding: str, output_encoding: str, errors: str = "replace",  # noqa: A002
                      replacement_char: int = 65533, replace_control_characters: bool = False,
                      name: Optional[str] = None) -> _ops.Tensor:
    """`tf.strings.unicode_transcode`: each string decoded from `input_encoding`, re-encoded."""
    input_encoding = _check_input_encoding(input_encoding, "tf.strings.unicode_transcode")
    _check_allowed("UnicodeTranscode", "output_encoding", output_encoding, OUTPUT_ENCODINGS)
    _check_allowed("UnicodeTranscode", "errors", errors, _ERRORS_DECODE)
    return apply_op("UnicodeTranscode", [input], {"input_encoding": input_encoding,
                                                  "output_encoding": output_encoding, "errors": errors,
                                                  "replacement_char": int(replacement_char),
                                                  "replace_control_characters": bool(replace_control_characters)},
                    name=name)


def unicode_script(input, name: Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.strings.unicode_script`: ICU's UScriptCode of each int32 code point (-1 for invalid ones)."""
    return apply_op("UnicodeScript", [input], name=name)


# ------------------------------------------------------------------------------------------------
# bytes_split and ngrams
# ------------------------------------------------------------------------------------------------
def bytes_split(input, name: Optional[str] = None):  # noqa: A002
    """`tf.strings.bytes_split`: each string cut into one-byte strings (ragged in a new last axis)."""
    tf = _tf()
    RaggedTensor = _ragged()[0]
    with _ops.name_scope(name, "StringsByteSplit", [input]):
        x = _to_tensor_or_ragged(input, name="input")
        if _is_ragged(x):
            return _with_flat_values(x, bytes_split(x.flat_values))
        rank = x.shape.ndims
        if rank is None:
            raise ValueError("input must have a statically-known rank.")
        if rank == 0:
            return bytes_split(tf.stack([x]))[0]
        if rank == 1:
            indices, values, shape = apply_op("StringSplit", [x, ""], {"skip_empty": False})
            return RaggedTensor.from_value_rowids(values=values, value_rowids=indices[:, 0], nrows=shape[0],
                                                  validate=False)
        return bytes_split(RaggedTensor.from_tensor(x))


def _is_text(value) -> bool:
    return isinstance(value, (str, bytes))


def ngrams(data, ngram_width, separator: str = " ", pad_values=None, padding_width: Optional[int] = None,
           preserve_short_sequences: bool = False, name: Optional[str] = None):
    """`tf.strings.ngrams`: windows of `ngram_width` adjacent strings of the innermost axis joined by
    `separator`, optionally padded with `pad_values` (StringNGrams)."""
    tf = _tf()
    RaggedTensor = _ragged()[0]
    with _ops.name_scope(name, "StringNGrams", [data]):
        if pad_values is None:
            left_pad = right_pad = ""
        elif isinstance(pad_values, (list, tuple)):
            if not _is_text(pad_values[0]) or not _is_text(pad_values[1]):
                raise TypeError("pad_values must be a string, tuple of strings, or None.")
            left_pad, right_pad = pad_values[0], pad_values[1]
        else:
            if not _is_text(pad_values):
                raise TypeError("pad_values must be a string, tuple of strings, or None.")
            left_pad = right_pad = pad_values
        if padding_width is not None and padding_width < 1:
            raise ValueError("padding_width must be greater than 0.")
        if padding_width is not None and pad_values is None:
            raise ValueError("pad_values must be provided if padding_width is set.")
        data = _to_tensor_or_ragged(data, _dt.string, name="data")
        to_tensor = False
        if not _is_ragged(data):
            dense_shape = tf.concat([tf.shape(data)[:-1], [-1]], axis=0)
            to_tensor = True
            if data.shape.ndims is None:
                raise ValueError("Rank of data must be known.")
            if data.shape.ndims == 0:
                raise ValueError("Data must have rank>0")
            if data.shape.ndims == 1:
                rows = RaggedTensor.from_row_starts(data, [0], validate=False)
                return ngrams(rows, ngram_width, separator, pad_values, padding_width, preserve_short_sequences,
                              name)[0]
            data = RaggedTensor.from_tensor(data, ragged_rank=data.shape.ndims - 1)
        if data.ragged_rank > 1:
            out = data.with_values(ngrams(data.values, ngram_width, separator, pad_values, padding_width,
                                          preserve_short_sequences, name))
            return tf.reshape(out.flat_values, dense_shape) if to_tensor else out
        if pad_values is None:
            padding_width = 0
        elif padding_width is None:
            padding_width = -1          # the kernel's "ngram_width - 1 on each side"
        widths = list(ngram_width) if isinstance(ngram_width, (list, tuple)) else [ngram_width]
        for width in widths:
            if width < 1:
                raise ValueError(f"All ngram_widths must be greater than 0. Got {ngram_width}")
        values, splits = apply_op("StringNGrams", [data.flat_values, data.row_splits],
                                  {"separator": _str(separator), "ngram_widths": [int(w) for w in widths],
                                   "left_pad": _str(left_pad), "right_pad": _str(right_pad),
                                   "pad_width": int(padding_width),
                                   "preserve_short_sequences": bool(preserve_short_sequences)})
        out = RaggedTensor.from_row_splits(values=values, row_splits=splits, validate=False)
        return tf.reshape(out.flat_values, dense_shape) if to_tensor else out


def _str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


__all__ = ["unicode_decode", "unicode_decode_with_offsets", "unicode_split", "unicode_split_with_offsets",
           "unicode_encode", "unicode_transcode", "unicode_script", "bytes_split", "ngrams"]
