"""String ops that file pipelines need: `tf.read_file`, `tf.decode_csv`, `tf.string_split`.
Host ops: lowerings in lowering/rules/data.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op, defop, scalar_shape
from graphcompat.ops.parsing_ops import SparseTensor

_CSV_TYPES = (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.string)

defop("ReadFile", "filename: string -> contents: string", shape=scalar_shape)
defop("DecodeCSV", "records: string, record_defaults: *OUT_TYPE -> output: *OUT_TYPE",
      attrs={"field_delim": ",", "use_quote_delim": True, "na_value": "", "select_cols": []},
      shape=lambda ctx: [ctx.shape(0)] * len(ctx.output_dtypes))
defop("StringSplit", "input: string, delimiter: string -> indices: int64, values: string, shape: int64",
      attrs={"skip_empty": True},
      shape=lambda ctx: [_ts.TensorShape([None, 2]), _ts.TensorShape([None]), _ts.TensorShape([2])])


def read_file(filename, name=None):
    """`tf.read_file`: the whole file's bytes as a string scalar."""
    return apply_op("ReadFile", [convert_to_tensor(filename, _dt.string)], name=name or "ReadFile")


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None, na_value="",
               select_cols=None):
    """`tf.decode_csv`: one tensor per column, typed by `record_defaults` (`[]` marks a required column)."""
    records = convert_to_tensor(records, _dt.string)
    defaults = []
    for i, d in enumerate(record_defaults):
        if isinstance(d, (list, tuple)) and len(d) == 0:
            raise ValueError(f"record_defaults[{i}]: an empty default needs a dtype: use "
                             f"tf.constant([], dtype=...)")
        t = convert_to_tensor(d)
        if t.dtype not in _CSV_TYPES:
            raise TypeError(f"Value passed to parameter 'record_defaults' has DataType {t.dtype.name} not in "
                            f"list of allowed values: float32, float64, int32, int64, string")
        defaults.append(t)
    if len(field_delim) != 1:
        raise ValueError("field_delim should be only 1 char")
    outs = apply_op("DecodeCSV", [records, defaults],
                    {"field_delim": field_delim, "use_quote_delim": bool(use_quote_delim), "na_value": na_value,
                     "select_cols": list(select_cols or [])}, name=name or "DecodeCSV")
    return outs if isinstance(outs, list) else [outs]


def string_split(source, sep=None, skip_empty: bool = True, delimiter=None, result_type: str = "SparseTensor",
                 name=None):
    """`tf.string_split` (v1): the tokens of each string of a rank-1 string tensor, as a SparseTensor or (with
    `result_type='RaggedTensor'`) a RaggedTensor; each character of the delimiter splits."""
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'delimiter' and 'sep'.")
    delimiter = " " if sep is None and delimiter is None else (sep if sep is not None else delimiter)
    with _ops.name_scope(name, "StringSplit", [source]):
        delimiter = convert_to_tensor(delimiter, _dt.string)
        source = convert_to_tensor(source, _dt.string)
        if source.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {source.shape.ndims}")
        indices, values, shape = apply_op("StringSplit", [source, delimiter], {"skip_empty": bool(skip_empty)})
        if result_type == "SparseTensor":
            return SparseTensor(indices, values, shape)
        if result_type == "RaggedTensor":
            # TF's Python rebuilds the rows from the sparse result: row ids are the first index column
            return RaggedTensor.from_value_rowids(values=values, value_rowids=indices[:, 0], nrows=shape[0],
                                                  validate=False)
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")


__all__ = ["read_file", "decode_csv", "string_split"]


# ================================================================================================
# ops13: tf.strings (join, split, substr, length, case, regex, strip, to_number, hash buckets, format,
# reduce_join, as_string). Host ops on bytes: lowerings in lowering/rules/strings.py.
# ================================================================================================
import numpy as _np  # noqa: E402
from typing import Optional as _Optional  # noqa: E402

from graphcompat.framework import ops as _ops  # noqa: E402
from graphcompat.framework.constant_op import constant as _constant  # noqa: E402
from graphcompat.framework.registry import (InferenceContext as _Ctx, broadcast_shapes as _broadcast,  # noqa: E402
                                            merge_shapes as _merge, unchanged_shape as _unchanged)

_INDEX = (_dt.int32, _dt.int64)


def _join_shape(ctx: _Ctx):
    shape = _ts.TensorShape([])
    for t in ctx.inputs:
        if t.shape.ndims != 0:
            shape = t.shape if shape.ndims == 0 else _merge(ctx, shape, t.shape)
    return [shape]


def _substr_shape(ctx: _Ctx):
    pos, length = ctx.shape(1), ctx.shape(2)
    if pos.ndims is not None and length.ndims is not None:
        _merge(ctx, pos, length)
    return [_broadcast(ctx, ctx.shape(0), pos)]


def _reduce_join_shape(ctx: _Ctx):
    shape, axes = ctx.shape(0), ctx.value(1)
    if shape.ndims is None or axes is None:
        return [_ts.unknown_shape()]
    rank = shape.ndims
    axes = [int(a) for a in _np.reshape(axes, [-1])]
    for a in axes:
        if not -rank <= a < rank:
            raise ctx.error(f"Invalid reduction dimension {a} for input with {rank} dimensions")
    reduced = {a % rank for a in axes}
    dims = shape.as_list()
    keep = ctx.attrs["keep_dims"]
    return [_ts.TensorShape([1 if i in reduced else d for i, d in enumerate(dims) if keep or i not in reduced])]


defop("StringJoin", "inputs: N * string -> output: string", attrs={"separator": ""}, shape=_join_shape)
defop("StringSplitV2", "input: string, sep: string -> indices: int64, values: string, shape: int64",
      attrs={"maxsplit": -1},
      shape=lambda ctx: [_ts.TensorShape([None, 2]), _ts.TensorShape([None]), _ts.TensorShape([2])])
defop("Substr", "input: string, pos: T, len: T -> output: string", attrs={"unit": "BYTE"}, types={"T": _INDEX},
      shape=_substr_shape)
defop("StringLength", "input: string -> output: int32", attrs={"unit": "BYTE"}, shape=_unchanged)
for _op in ("StringLower", "StringUpper"):
    defop(_op, "input: string -> output: string", attrs={"encoding": ""}, shape=_unchanged)
defop("StringStrip", "input: string -> output: string", shape=_unchanged)
defop("StaticRegexReplace", "input: string -> output: string", attrs={"replace_global": True}, shape=_unchanged)
defop("RegexReplace", "input: string, pattern: string, rewrite: string -> output: string",
      attrs={"replace_global": True}, shape=lambda ctx: [ctx.shape(0)])
defop("StaticRegexFullMatch", "input: string -> output: bool", shape=_unchanged)
defop("RegexFullMatch", "input: string, pattern: string -> output: bool", shape=lambda ctx: [ctx.shape(0)])
defop("StringToNumber", "string_tensor: string -> output: out_type", attrs={"out_type": _dt.float32},
      types={"out_type": (_dt.float32, _dt.float64, _dt.int32, _dt.int64)}, shape=_unchanged)
defop("StringToHashBucketFast", "input: string -> output: int64", shape=_unchanged)
defop("StringToHashBucketStrong", "input: string -> output: int64", shape=_unchanged)
defop("StringToHashBucket", "string_tensor: string -> output: int64", shape=_unchanged)


def _fingerprint_shape(ctx):
    """TF's Fingerprint shape function: data at least rank 1, method a scalar; [batch, 8] once the method
    is a known "farmhash64" (the size is the method's), [batch, ?] while it is only known at run time."""
    data, method = ctx.shape(0), ctx.shape(1)
    if data.ndims is not None and data.ndims < 1:
        raise ctx.error(f"Shape must be at least rank 1 but is rank {data.ndims}")
    if method.ndims is not None and method.ndims != 0:
        raise ctx.error(f"Shape must be rank 0 but is rank {method.ndims}")
    name = ctx.value(1)
    size = None
    if name is not None:
        name = name.item() if hasattr(name, "item") else name
        name = name.decode() if isinstance(name, bytes) else str(name)
        if name != "farmhash64":
            raise ctx.error(f"Unsupported method: {name}")
        size = 8
    return [_ts.TensorShape([data[0].value if data.ndims else None, size])]


defop("Fingerprint", "data: T, method: string -> fingerprint: uint8", shape=_fingerprint_shape)
defop("StringFormat", "inputs: *T -> output: string", attrs={"template": "%s", "placeholder": "%s", "summarize": 3},
      shape=lambda ctx: [_ts.TensorShape([])])
defop("ReduceJoin", "inputs: string, reduction_indices: int32 -> output: string",
      attrs={"keep_dims": False, "separator": ""}, shape=_reduce_join_shape)
defop("AsString", "input: T -> output: string",
      attrs={"precision": -1, "scientific": False, "shortest": False, "width": -1, "fill": ""},
      types={"T": (_dt.float32, _dt.float64, _dt.bfloat16, _dt.float16, _dt.int8, _dt.int16, _dt.int32, _dt.int64,
                   _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64, _dt.complex64, _dt.complex128, _dt.bool_,
                   _dt.variant, _dt.string)},
      shape=_unchanged)


def string_join(inputs, separator: str = "", name: _Optional[str] = None) -> _ops.Tensor:
    """`tf.strings.join`: element-wise concatenation (scalars broadcast) with `separator` between."""
    return apply_op("StringJoin", [list(inputs)], {"separator": separator}, name=name)


def _sparse_split_v2(input, sep, maxsplit: int) -> SparseTensor:  # noqa: A002
    """TF's string_ops.string_split_v2: the StringSplitV2 kernel on a rank-1 tensor, as a SparseTensor."""
    sep = convert_to_tensor("" if sep is None else sep, _dt.string)
    input = convert_to_tensor(input, _dt.string)
    indices, values, shape = apply_op("StringSplitV2", [input, sep], {"maxsplit": int(maxsplit)})
    return SparseTensor(indices, values, shape)


def ragged_string_split(input, sep=None, maxsplit: int = -1, name: _Optional[str] = None):  # noqa: A002
    """TF's ragged string_split_v2 (`tf.strings.split` in TF 2): a RaggedTensor of rank N + 1 (a Tensor's rows
    of tokens, a RaggedTensor's flat values split in place)."""
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    with _ops.name_scope(name, "StringSplit", [input]):
        if not isinstance(input, RaggedTensor):
            input = convert_to_tensor(input, _dt.string, name="input")
        elif input.dtype != _dt.string:
            raise ValueError(f"Tensor conversion requested dtype string for RaggedTensor with dtype "
                             f"{input.dtype.name}")
        if isinstance(input, RaggedTensor):
            return input.with_flat_values(ragged_string_split(input.flat_values, sep, maxsplit))
        rank = input.shape.ndims
        if rank == 0:
            from graphcompat.ops.array_ops import stack
            return ragged_string_split(stack([input]), sep, maxsplit)[0]
        if rank == 1 or rank is None:
            sparse = _sparse_split_v2(input, sep, maxsplit)
            return RaggedTensor.from_value_rowids(values=sparse.values, value_rowids=sparse.indices[:, 0],
                                                  nrows=sparse.dense_shape[0], validate=False)
        return ragged_string_split(RaggedTensor.from_tensor(input), sep, maxsplit)


def string_split_v2(input=None, sep=None, maxsplit: int = -1, result_type: str = "SparseTensor",  # noqa: A002
                    source=None, name: _Optional[str] = None):
    """`tf.strings.split` (v1): the tokens of each string (sep=None splits on whitespace runs), as a
    SparseTensor or (`result_type='RaggedTensor'`) a RaggedTensor of rank N + 1."""
    from graphcompat.ragged.ragged_tensor import RaggedTensor
    if source is not None:
        if input is not None:
            raise ValueError("Cannot specify both 'source' and 'input'.")
        input = source
    with _ops.name_scope(name, "StringSplit", [input]):
        if not isinstance(input, RaggedTensor):
            input = convert_to_tensor(input, _dt.string, name="input")
        if input.shape.ndims == 0:
            from graphcompat.ops.array_ops import expand_dims
            input = expand_dims(input, 0)
        if result_type == "SparseTensor":
            if input.shape.ndims == 1:
                return _sparse_split_v2(input, sep, maxsplit)
            return ragged_string_split(input, sep, maxsplit).to_sparse()
        if result_type == "RaggedTensor":
            return ragged_string_split(input, sep, maxsplit)
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")


def substr(input, pos, len, name: _Optional[str] = None, unit: str = "BYTE") -> _ops.Tensor:  # noqa: A002
    """`tf.strings.substr`: `len` bytes (or UTF-8 characters) from `pos` (negative: from the end)."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"Attr 'unit' of 'Substr' Op passed string '{unit}' not in: \"BYTE\", \"UTF8_CHAR\".")
    return apply_op("Substr", [input, pos, len], {"unit": unit}, name=name)


def string_length(input, name: _Optional[str] = None, unit: str = "BYTE") -> _ops.Tensor:  # noqa: A002
    """`tf.strings.length`: bytes (or UTF-8 characters) per string, int32."""
    return apply_op("StringLength", [input], {"unit": unit}, name=name)


def _unary(op_type: str, tf_name: str, attr: _Optional[str] = None):
    def unary(input, *args, name: _Optional[str] = None, **kwargs):  # noqa: A002
        attrs = {}
        if attr is not None:
            attrs[attr] = kwargs.pop(attr, args[0] if args else "")
        if kwargs:
            raise TypeError(f"{tf_name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return apply_op(op_type, [input], attrs, name=name)
    unary.__name__ = tf_name
    unary.__doc__ = f"`tf.strings.{tf_name}` ({op_type})."
    return unary


lower = _unary("StringLower", "lower", "encoding")
upper = _unary("StringUpper", "upper", "encoding")
strip = _unary("StringStrip", "strip")


def regex_replace(input, pattern, rewrite, replace_global: bool = True, name: _Optional[str] = None):  # noqa: A002
    """`tf.strings.regex_replace`: StaticRegexReplace for Python patterns, RegexReplace for tensors."""
    if isinstance(pattern, (str, bytes)) and isinstance(rewrite, (str, bytes)):
        return apply_op("StaticRegexReplace", [input], {"pattern": _text(pattern), "rewrite": _text(rewrite),
                                                        "replace_global": bool(replace_global)}, name=name)
    return apply_op("RegexReplace", [input, pattern, rewrite], {"replace_global": bool(replace_global)}, name=name)


def regex_full_match(input, pattern, name: _Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.strings.regex_full_match`: whether each whole string matches (RE2 syntax)."""
    if isinstance(pattern, (str, bytes)):
        return apply_op("StaticRegexFullMatch", [input], {"pattern": _text(pattern)}, name=name)
    return apply_op("RegexFullMatch", [input, pattern], name=name)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def string_to_number(string_tensor=None, out_type=_dt.float32, name: _Optional[str] = None,
                     input=None) -> _ops.Tensor:  # noqa: A002
    """`tf.strings.to_number`: parses each string as `out_type` (InvalidArgumentError when it cannot)."""
    string_tensor = input if string_tensor is None else string_tensor
    return apply_op("StringToNumber", [string_tensor], {"out_type": _dt.as_dtype(out_type)}, name=name)


def string_to_hash_bucket_fast(input, num_buckets: int, name: _Optional[str] = None) -> _ops.Tensor:  # noqa: A002
    """`tf.strings.to_hash_bucket_fast`: Fingerprint64 (FarmHash) of each string mod `num_buckets`."""
    return apply_op("StringToHashBucketFast", [input], {"num_buckets": int(num_buckets)}, name=name)


def string_to_hash_bucket_strong(input, num_buckets: int, key, name: _Optional[str] = None):  # noqa: A002
    """`tf.strings.to_hash_bucket_strong`: keyed SipHash-2-4 of each string mod `num_buckets`."""
    key = [int(k) for k in key]
    if len(key) != 2:
        raise ValueError(f"Key must have 2 elements; got {len(key)}")
    return apply_op("StringToHashBucketStrong", [input], {"num_buckets": int(num_buckets), "key": key}, name=name)


def string_to_hash_bucket(string_tensor=None, num_buckets=None, name: _Optional[str] = None,
                          input=None) -> _ops.Tensor:  # noqa: A002
    """`tf.string_to_hash_bucket` (legacy): TF's Hash64 of each string mod `num_buckets`."""
    string_tensor = input if string_tensor is None else string_tensor
    return apply_op("StringToHashBucket", [string_tensor], {"num_buckets": int(num_buckets)}, name=name)


def string_format(template: str, inputs, placeholder: str = "{}", summarize: int = 3,
                  name: _Optional[str] = None) -> _ops.Tensor:
    """`tf.strings.format`: `template` with each `placeholder` replaced by a tensor printed as tf.print does."""
    if isinstance(inputs, _ops.Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    inputs = [convert_to_tensor(x) for x in inputs]
    expected = template.count(placeholder)
    if expected != len(inputs):
        raise ValueError(f"The template expects {expected} tensors, but the inputs only has {len(inputs)}. Please "
                         f"ensure the number of placeholders in template matches inputs length.")
    return apply_op("StringFormat", [inputs], {"template": template, "placeholder": placeholder,
                                               "summarize": int(summarize)}, name=name)


def reduce_join(inputs, axis=None, keep_dims=None, separator: str = "", name: _Optional[str] = None,
                reduction_indices=None, keepdims=None) -> _ops.Tensor:
    """`tf.strings.reduce_join`: joins strings along `axis` (all axes by default)."""
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keepdims = bool(keepdims if keepdims is not None else keep_dims or False)
    axis = axis if axis is not None else reduction_indices
    with _ops.name_scope(None, "ReduceJoin", [inputs, axis]):
        inputs_t = convert_to_tensor(inputs, _dt.string)
        if axis is None:
            if inputs_t.shape.ndims is None:
                raise NotImplementedError("tf.strings.reduce_join(axis=None) of a tensor of unknown rank")
            axis = _constant(_np.arange(inputs_t.shape.ndims, dtype=_np.int32))
        return apply_op("ReduceJoin", [inputs_t, axis], {"keep_dims": keepdims, "separator": separator},
                        name=name or "ReduceJoin")


def as_string(input, precision: int = -1, scientific: bool = False, shortest: bool = False,  # noqa: A002
              width: int = -1, fill: str = "", name: _Optional[str] = None) -> _ops.Tensor:
    """`tf.as_string`: numbers and bools formatted as C's printf would (TF's AsString)."""
    return apply_op("AsString", [input], {"precision": int(precision), "scientific": bool(scientific),
                                          "shortest": bool(shortest), "width": int(width), "fill": fill}, name=name)


__all__ += ["string_join", "string_split_v2", "substr", "string_length", "lower", "upper", "strip",
            "regex_replace", "regex_full_match", "string_to_number", "string_to_hash_bucket_fast",
            "string_to_hash_bucket_strong", "string_to_hash_bucket", "string_format", "reduce_join", "as_string"]


def fingerprint(data, method: str = "farmhash64", name: _Optional[str] = None) -> _ops.Tensor:
    """`tf.fingerprint`: one 8-byte FarmHash Fingerprint64 per row of `data` (uint8 [batch, 8], the hash's
    bytes little-endian), stable across platforms and releases."""
    return apply_op("Fingerprint", [data, method], name=name)
