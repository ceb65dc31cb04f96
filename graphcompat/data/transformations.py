"""tf.data transformations: map, filter, flat_map, interleave, shuffle, repeat, batch, padded_batch,
prefetch, take, skip, cache, unbatch — and `device_plan`, which decides whether an iterator's pipeline is
walked on the device and what the host must tell each step.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import (AUTOTUNE, INF, Dataset, Function, Spec, _get_seed, _static_int,
                                          deterministic_attr)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant_value, convert_to_tensor
from graphcompat.data.sources import _child_index


class MapDataset(Dataset):
    _op_type = "MapDataset"

    def __init__(self, input_ds: Dataset, map_func, num_parallel_calls=None, deterministic=None):
        parallel = num_parallel_calls is not None
        self._fn = Function(map_func, input_ds._template, input_ds._specs, "map_fn" if not parallel else "pmap_fn",
                            "map")
        if self._fn.dataset is not None:
            raise TypeError("The map function must return a (nested) structure of tensors, not a Dataset; "
                            "use flat_map.")
        extra = []
        if parallel:  # TF's ParallelMapDatasetV2 takes it as its last input
            extra = [convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls")]
        self._parallel_calls = extra[0] if extra else None
        self._record([input_ds], self._fn.captures + extra, self._fn.template, self._fn.specs,
                     "ParallelMapDatasetV2" if parallel else "MapDataset",
                     {"f": self._fn.func_attr, "Targuments": self._fn.capture_types,
                      **({"deterministic": deterministic_attr(deterministic)} if parallel else {})})

    def _validate(self, b):
        if self._parallel_calls is not None:
            n = int(b.vals[self._parallel_calls])
            if n <= 0 and n != AUTOTUNE:
                raise errors.InvalidArgumentError(None, self._variant.op, "num_parallel_calls must be greater than "
                                                  "zero.")

    def _iter(self, b, rt):
        """Op by op per element, or compiled over chunks of elements (see lowering/rules/data.py)."""
        parallel = 0 if self._parallel_calls is None else int(b.vals[self._parallel_calls])
        return rt.map(self._fn, b.children[0].ds._iter(b.children[0], rt), b.vals, parallel)

    def _card(self):
        return self._children[0]._card()

    def _dev_ok(self):
        return self._fn.dev_ok and self._children[0]._dev_ok()

    def _dev_tensors(self):
        out = super()._dev_tensors()
        return out + [t for t in self._fn.captures if t not in out]

    def _dev_elem(self, i, dv, rt):
        return self._fn.call(self._children[0]._dev_elem(i, dv, rt), dv, rt.ctx)


class FilterDataset(Dataset):
    _op_type = "FilterDataset"

    def __init__(self, input_ds: Dataset, predicate):
        self._fn = Function(predicate, input_ds._template, input_ds._specs, "filter_fn", "filter")
        out = self._fn.specs
        if self._fn.dataset is not None or len(out) != 1 or out[0].dtype != _dt.bool_ or \
                not out[0].shape.is_compatible_with([]):
            raise ValueError(f"`predicate` return type must be convertible to a scalar boolean tensor. Was "
                             f"{out[0] if len(out) == 1 else out}.")
        self._record([input_ds], self._fn.captures, input_ds._template, input_ds._specs,
                     attrs={"predicate": self._fn.func_attr, "Targuments": self._fn.capture_types})

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            if bool(np.asarray(self._fn.call(elem, b.vals, rt.ctx)[0])):
                yield elem


class FlatMapDataset(Dataset):
    _op_type = "FlatMapDataset"

    def __init__(self, input_ds: Dataset, map_func, op_type: str = "FlatMapDataset", extra: list = (),
                 attrs: Optional[dict] = None):
        transformation = "flat_map" if op_type == "FlatMapDataset" else "interleave"
        self._fn = Function(map_func, input_ds._template, input_ds._specs, "flat_map_fn", transformation)
        if self._fn.dataset is None:
            raise TypeError("`map_func` must return a `Dataset` object.")
        inner = self._fn.dataset
        # TF's order: the captures (`other_arguments`), then the op's own arguments (interleave's lengths)
        self._record([input_ds], self._fn.captures + list(extra), inner._template, inner._specs, op_type,
                     {"f": self._fn.func_attr, "Targuments": self._fn.capture_types, **(attrs or {})})

    def _inner(self, elem, b, rt):
        inner = self._fn.call(elem, b.vals, rt.ctx)[0]
        return inner.ds._iter(inner, rt)

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            yield from self._inner(elem, b, rt)


class InterleaveDataset(FlatMapDataset):
    _op_type = "InterleaveDataset"

    def __init__(self, input_ds, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                 legacy_parallel: bool = False, buffering: tuple = (), deterministic=None):
        """TF's three interleave ops, one deterministic walk: `InterleaveDataset`; with `num_parallel_calls`
        `ParallelInterleaveDatasetV4`; `legacy_parallel` (tf.data.experimental.parallel_interleave without
        sloppiness, the file readers' num_parallel_reads) `LegacyParallelInterleaveDatasetV2`. `buffering`:
        the parallel ops' (buffer_output_elements, prefetch_input_elements) tensors (else TF's defaults)."""
        cycle = convert_to_tensor(AUTOTUNE if cycle_length is None else cycle_length, _dt.int64, name="cycle_length")
        block = convert_to_tensor(1 if block_length is None else block_length, _dt.int64, name="block_length")
        self._cycle, self._block = cycle, block
        extra, attrs, op_type = [cycle, block], {}, "InterleaveDataset"
        if legacy_parallel:  # TF's defaults: two blocks buffered per input, two inputs prefetched per slot
            extra += list(buffering) or [
                convert_to_tensor(2 * _static_int(block), _dt.int64, name="buffer_output_elements"),
                convert_to_tensor(2 * _static_int(cycle), _dt.int64, name="prefetch_input_elements")]
            attrs, op_type = {"deterministic": "true"}, "LegacyParallelInterleaveDatasetV2"
        elif num_parallel_calls is not None:
            extra += list(buffering) or [convert_to_tensor(AUTOTUNE, _dt.int64, name="buffer_output_elements"),
                                         convert_to_tensor(AUTOTUNE, _dt.int64, name="prefetch_input_elements")]
            extra.append(convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls"))
            attrs = {"deterministic": deterministic_attr(deterministic)}
            op_type = "ParallelInterleaveDatasetV4"
        super().__init__(input_ds, map_func, op_type, extra, attrs)

    def _iter(self, b, rt):
        """TF's deterministic interleave: round robin over `cycle_length` open inputs, `block_length` each."""
        cycle = int(b.vals[self._cycle])
        cycle = os.cpu_count() or 1 if cycle == AUTOTUNE else cycle
        block = int(b.vals[self._block])
        source = b.children[0].ds._iter(b.children[0], rt)
        slots: list = [None] * cycle
        exhausted = False

        def refill(k):
            nonlocal exhausted
            if exhausted:
                return
            try:
                slots[k] = self._inner(next(source), b, rt)
            except StopIteration:
                exhausted = True

        for k in range(cycle):
            refill(k)
        k = 0
        while any(s is not None for s in slots):
            it = slots[k]
            if it is not None:
                for _ in range(block):
                    try:
                        yield next(it)
                    except StopIteration:
                        slots[k] = None
                        refill(k)
                        break
            k = (k + 1) % cycle


class ShuffleDataset(Dataset):
    _op_type = "ShuffleDataset"

    def __init__(self, input_ds: Dataset, buffer_size, seed, reshuffle: bool, seed_tensors: tuple = ()):
        """`seed_tensors`: (seed, seed2) tensors an imported graph computed (their values must be constant)."""
        buffer = convert_to_tensor(buffer_size, _dt.int64, name="buffer_size")
        if seed_tensors:  # an imported graph's own seed ops
            seed_t, seed2_t = seed_tensors
            seeds = tuple(_computed_int(t) for t in seed_tensors)
            if None in seeds:
                raise NotImplementedError("tf.data.Dataset.shuffle: graphcompat needs the seeds of an imported "
                                          "ShuffleDataset to be constant")
            self._random = seeds == (0, 0)
        else:
            seeds = _get_seed(seed)
            self._random = seeds is None
            seed_t, seed2_t, seeds = _seed_tensors(seeds)
        self._seeds = seeds
        self._reshuffle = bool(reshuffle)
        self._buffer = _static_int(buffer)
        self._record([input_ds], [buffer, seed_t, seed2_t], input_ds._template, input_ds._specs,
                     attrs={"reshuffle_each_iteration": self._reshuffle})

    def _validate(self, b):
        if int(b.vals[self._tensors[0]]) <= 0:
            raise errors.InvalidArgumentError(None, self._variant.op, "buffer_size must be greater than zero.")

    def _iter(self, b, rt):
        """TF's buffered shuffle: fill `buffer_size` elements, emit a random one, refill its slot."""
        epoch = rt.next_epoch(self) if self._reshuffle else 0
        rng = np.random.default_rng(rt.seed_for(self, epoch))
        size = int(b.vals[self._tensors[0]])
        source = b.children[0].ds._iter(b.children[0], rt)
        buf: list = []
        for elem in source:
            buf.append(elem)
            if len(buf) >= size:
                break
        while buf:
            k = int(rng.random() * len(buf))  # the same draws as buffered_order: both walks agree
            out = buf[k]
            try:
                buf[k] = next(source)
            except StopIteration:
                buf[k] = buf[-1]
                buf.pop()
            yield out

    def _card(self):
        return self._children[0]._card()

    def _small_buffer(self) -> bool:
        """Shuffled through a host-computed order (the buffer does not hold the whole input)."""
        return self._buffer < self._card()

    def _dev_ok(self):
        n = self._card()
        return n is not None and n != INF and self._buffer is not None and self._buffer > 0 and \
            self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n = self._card()
        e, p = i // n, i % n
        if self._small_buffer():  # rows of rt.perms: this epoch's and the next one's order
            row = (e - rt.perm_base) if self._reshuffle else 0 * e
            j = rt.perms[row, p]
        else:
            j = _permute(p, n, rt.shuffle_key(self, e if self._reshuffle else 0 * e))
        return self._children[0]._dev_elem(e * n + j, dv, rt)


def _computed_int(t) -> "int | None":
    """The value of a scalar that constant ops compute (tf.data's seed2 is a SelectV2 over constants), computed
    on the host now; None if it depends on anything else (a feed, a variable, a stateful op)."""
    value = _static_int(t)
    if value is not None:
        return value
    from graphcompat.framework.registry import get_op_def
    from lowering.interpreter import RunContext, evaluate
    from lowering.plan import normalize_attrs, prune
    from lowering.registry import get_rule
    ops = prune([t], [], set())
    if any(get_op_def(op.type).stateful or op.type in ("Placeholder", "PlaceholderWithDefault") for op in ops):
        return None
    steps = [(op, get_rule(op.type), normalize_attrs(op.attrs)) for op in ops]
    return int(np.asarray(evaluate(steps, {}, [t], RunContext({}, traced=False))[0]))


def _seed_tensors(seeds) -> tuple:
    """tf.data's random_seed.get_seed as ops: (seed, seed2, their values); seed2 becomes 2**31 - 1 where both
    seeds are 0 (0, 0 asks the kernel for random seeds)."""
    if seeds is None:
        return (convert_to_tensor(0, _dt.int64, name="seed"), convert_to_tensor(0, _dt.int64, name="seed2"),
                (0, 0))
    from graphcompat.ops import math_ops
    seed_t = convert_to_tensor(seeds[0], _dt.int64, name="seed")
    with _ops.name_scope("seed2") as scope:
        seed2_t = convert_to_tensor(seeds[1], _dt.int64)
        both_zero = math_ops.logical_and(math_ops.equal(seed_t, 0), math_ops.equal(seed2_t, 0))
        seed2_t = math_ops.where_v2(both_zero, convert_to_tensor(2 ** 31 - 1, _dt.int64), seed2_t, name=scope)
    return seed_t, seed2_t, ((0, 2 ** 31 - 1) if tuple(seeds) == (0, 0) else tuple(seeds))


def buffered_order(n: int, size: int, seed: list) -> np.ndarray:
    """The order in which TF's buffered shuffle emits range(n) with a `size` buffer (one epoch)."""
    u = np.random.default_rng(seed).random(n)
    buf = list(range(min(size, n)))
    nxt = len(buf)
    out = np.empty(n, np.int64)
    for t in range(n):
        k = int(u[t] * len(buf))
        out[t] = buf[k]
        if nxt < n:
            buf[k] = nxt
            nxt += 1
        else:
            buf[k] = buf[-1]
            buf.pop()
    return out


def _mix32(x):
    """murmur3's 32-bit finalizer (a bijection of uint32 with good avalanche)."""
    import jax.numpy as jnp
    x = x ^ (x >> jnp.uint32(16))
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> jnp.uint32(13))
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> jnp.uint32(16))


def _permute(p, n: int, key):
    """Position `p` of a pseudo-random permutation of range(n) chosen by `key` (uint32), in O(1) state.

    A 4-round Feistel network over the smallest even-bit power of two ≥ n is a bijection; indices that
    land outside [0, n) are walked again until they land inside (cycle walking keeps it a bijection).
    """
    import jax
    import jax.numpy as jnp
    if n <= 1:
        return p
    half = max(1, ((n - 1).bit_length() + 1) // 2)
    mask = jnp.uint32((1 << half) - 1)
    keys = [_mix32(key ^ jnp.uint32((0x9E3779B9 * (r + 1)) & 0xFFFFFFFF)) for r in range(4)]

    def feistel(x):
        left, right = x >> jnp.uint32(half), x & mask
        for k in keys:
            left, right = right, left ^ (_mix32(right ^ k) & mask)
        return (left << jnp.uint32(half)) | right

    x = feistel(p.astype(jnp.uint32))
    x = jax.lax.while_loop(lambda v: v >= jnp.uint32(n), feistel, x)
    return x.astype(p.dtype)


class RepeatDataset(Dataset):
    _op_type = "RepeatDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(-1 if count is None else count, _dt.int64, name="count")
        self._count = _static_int(t)
        self._record([input_ds], [t], input_ds._template, input_ds._specs)

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        child = b.children[0]
        e = 0
        while count < 0 or e < count:
            produced = False
            for elem in child.ds._iter(child, rt):
                produced = True
                yield elem
            if not produced:  # an empty input repeated forever is empty (as TF)
                return
            e += 1

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        if n == 0 or self._count == 0:
            return 0
        return INF if self._count < 0 or n == INF else n * self._count

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        return self._children[0]._dev_elem(i, dv, rt)


def _batches(b, rt, tensors, combine):
    """Groups the input's elements by the batch size (`tensors[0]`), keeping a short last group unless
    drop_remainder (`tensors[1]`); `combine` turns a group into one element (stack or pad)."""
    size, drop = int(b.vals[tensors[0]]), bool(b.vals[tensors[1]])
    buf: list = []
    for elem in b.children[0].ds._iter(b.children[0], rt):
        buf.append(elem)
        if len(buf) == size:
            yield combine(buf)
            buf = []
    if buf and not drop:
        yield combine(buf)


class BatchDataset(Dataset):
    _op_type = "BatchDatasetV2"

    def __init__(self, input_ds: Dataset, batch_size, drop_remainder, num_parallel_calls=None, deterministic=None):
        """With `num_parallel_calls` TF's `ParallelBatchDataset` (the same batches)."""
        bs = convert_to_tensor(batch_size, _dt.int64, name="batch_size")
        dr = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        parallel = [] if num_parallel_calls is None else [
            convert_to_tensor(num_parallel_calls, _dt.int64, name="num_parallel_calls")]
        self._b = _static_int(bs)
        drop = constant_value(dr)
        self._drop = None if drop is None else bool(drop)
        lead = self._b if self._drop else None
        specs, self._groups, k = [], [], 0
        for leaf in nest.flatten(input_ds._template):
            if isinstance(leaf, nest.SparseLeaf):  # a batch of SparseTensors is one SparseTensor of rank + 1
                i, v, sh = input_ds._specs[k:k + 3]
                rank = sh.shape[0].value if sh.shape.ndims == 1 else None
                r1 = None if rank is None else rank + 1
                specs += [Spec(_dt.int64, [None, r1]), Spec(v.dtype, [None]), Spec(_dt.int64, [r1])]
                self._groups.append((k, 3))
                k += 3
            else:
                s = input_ds._specs[k]
                specs.append(Spec(s.dtype, _ts.TensorShape([lead]).concatenate(s.shape)))
                self._groups.append((k, 1))
                k += 1
        if parallel:
            self._record([input_ds], [bs] + parallel + [dr], input_ds._template, specs, "ParallelBatchDataset",
                         {"deterministic": deterministic_attr(deterministic)})
        else:
            self._record([input_ds], [bs, dr], input_ds._template, specs)

    def _validate(self, b):
        if int(b.vals[self._tensors[0]]) <= 0:
            raise errors.InvalidArgumentError(None, self._variant.op, "Batch size must be greater than zero.")

    def _iter(self, b, rt):
        return _batches(b, rt, [self._tensors[0], self._tensors[-1]], self._stack)

    def _stack(self, buf):
        out = []
        for k, width in self._groups:
            if width == 3:
                out += _batch_sparse([e[k:k + 3] for e in buf])
                continue
            first = np.shape(buf[0][k])
            for j, elem in enumerate(buf[1:], 1):
                if np.shape(elem[k]) != first:
                    raise errors.InvalidArgumentError(
                        None, self._variant.op,
                        f"Cannot batch tensors with different shapes in component {k}. First element had shape "
                        f"[{','.join(map(str, first))}] and element {j} had shape "
                        f"[{','.join(map(str, np.shape(elem[k])))}].")
            out.append(np.stack([np.asarray(e[k]) for e in buf]))
        return out

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._b is None or self._drop is None:
            return None
        if n == INF:
            return INF
        return n // self._b if self._drop else -(-n // self._b)

    def _ragged(self) -> bool:
        """Whether each epoch ends with a smaller batch (its size then comes from `rt.batch_size`)."""
        n = self._children[0]._card()
        return not self._drop and n not in (None, INF) and n % self._b != 0

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok() and not nest.has_sparse(self._template)

    def batch_size_of(self, j: int) -> int:
        """The size of batch `j` (periodic index) of a ragged batch."""
        n, b = self._children[0]._card(), self._b
        nb = -(-n // b)
        return n - (nb - 1) * b if j % nb == nb - 1 else b

    def _dev_elem(self, j, dv, rt):
        import jax
        import jax.numpy as jnp
        n, b = self._children[0]._card(), self._b
        if n == INF:
            idx = j * b + jnp.arange(b, dtype=j.dtype)
        else:
            nb = n // b if self._drop else -(-n // b)
            k = rt.batch_size if self._ragged() else b  # static: a tail batch is its own compiled shape
            idx = (j // nb) * n + (j % nb) * b + jnp.arange(k, dtype=j.dtype)
        return jax.vmap(lambda k: self._children[0]._dev_elem(k, dv, rt))(idx)


class PaddedBatchDataset(Dataset):
    _op_type = "PaddedBatchDatasetV2"

    def __init__(self, input_ds: Dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        if nest.has_sparse(input_ds._template):
            raise NotImplementedError("tf.data.Dataset.padded_batch of SparseTensor components is not supported "
                                      "by graphcompat.")
        bs = convert_to_tensor(batch_size, _dt.int64, name="batch_size")
        if padded_shapes is None:
            shapes = [s.shape for s in input_ds._specs]
        else:
            shapes = [_ts.as_shape(s) for s in nest.flatten_up_to(input_ds._template, padded_shapes)]
        for s, spec in zip(shapes, input_ds._specs):
            if not s.is_compatible_with(spec.shape) and s.ndims != spec.shape.ndims:
                raise ValueError(f"The padded shape {s} is not compatible with the corresponding input "
                                 f"component shape {spec.shape}.")
        self._shapes = shapes
        if padding_values is None:
            self._pads = [b"" if s.dtype == _dt.string else 0 for s in input_ds._specs]
        else:
            self._pads = [v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
                          for v in nest.flatten_up_to(input_ds._template, padding_values)]
        # TF's inputs: one int64 vector per padded shape (-1: pad to the longest), one padding value each
        shape_ts = [convert_to_tensor(np.asarray([-1 if d is None else d for d in s.as_list()]
                                                 if s.ndims is not None else [], np.int64), name="Const")
                    for s in shapes]
        value_ts = [v if isinstance(v, _ops.Tensor) else convert_to_tensor(
                        np.asarray(v, sp.dtype.as_numpy_dtype) if sp.dtype != _dt.string else v, sp.dtype,
                        name="padding_value") for v, sp in zip(self._pads, input_ds._specs)]
        for v, sp in zip(value_ts, input_ds._specs):
            if v.dtype != sp.dtype or not v.shape.is_compatible_with([]):
                raise TypeError(f"Padding value {v} must be a scalar of type {sp.dtype.name}, matching the "
                                f"component it pads.")
        self._value_ts = value_ts
        dr = convert_to_tensor(drop_remainder, _dt.bool_, name="drop_remainder")
        lead = _static_int(bs) if constant_value(dr) else None
        specs = [Spec(sp.dtype, _ts.TensorShape([lead]).concatenate(s)) for s, sp in zip(shapes, input_ds._specs)]
        n = len(shapes)
        self._record([input_ds], [bs] + shape_ts + value_ts + [dr], input_ds._template, specs,
                     groups=[1, 1, n, n, 1])

    def _iter(self, b, rt):
        pads = [np.asarray(b.vals[t]).item() for t in self._value_ts]  # the padding values' run-time values
        return _batches(b, rt, [self._tensors[0], self._tensors[-1]], lambda buf: self._pad(buf, pads))

    def _pad(self, buf, pads):
        out = []
        for c, (shape, spec, pad) in enumerate(zip(self._shapes, self._specs, pads)):
            vals = [np.asarray(e[c]) for e in buf]
            dims = []
            for k, d in enumerate(shape.as_list() if shape.ndims is not None else [None] * vals[0].ndim):
                longest = max(v.shape[k] for v in vals)
                if d is not None and longest > d:
                    raise errors.DataLossError(None, self._variant.op,
                                               f"Attempted to pad to a smaller size than the input element.")
                dims.append(longest if d is None else d)
            arr = np.full([len(vals)] + dims, pad, dtype=spec.dtype.as_numpy_dtype)
            for k, v in enumerate(vals):
                arr[(k,) + tuple(slice(0, s) for s in v.shape)] = v if v.ndim else v.item()
            out.append(arr)
        return out


def _batch_sparse(parts: list) -> list:
    """SparseTensors (indices, values, dense_shape) → one with a leading batch dimension."""
    rank = len(np.asarray(parts[0][2]))
    indices = [np.concatenate([np.full((len(i), 1), b, np.int64), np.asarray(i, np.int64).reshape(len(i), rank)], 1)
               for b, (i, _, _) in enumerate(parts)]
    shape = np.max(np.stack([np.asarray(s, np.int64) for _, _, s in parts]), axis=0)
    return [np.concatenate(indices).astype(np.int64), np.concatenate([np.asarray(v) for _, v, _ in parts]),
            np.concatenate([[len(parts)], shape]).astype(np.int64)]


class _PassThroughDataset(Dataset):
    """A node whose elements are its input's, unchanged (prefetch, options): every walk delegates to it."""

    def _iter(self, b, rt):
        return b.children[0].ds._iter(b.children[0], rt)

    def _card(self):
        return self._children[0]._card()

    def _dev_ok(self):
        return self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        return self._children[0]._dev_elem(i, dv, rt)


class PrefetchDataset(_PassThroughDataset):
    _op_type = "PrefetchDataset"

    def __init__(self, input_ds: Dataset, buffer_size):
        t = convert_to_tensor(buffer_size, _dt.int64, name="buffer_size")
        with _ops.colocate_with(input_ds._variant):
            self._record([input_ds], [t], input_ds._template, input_ds._specs,
                         attrs={"legacy_autotune": _static_int(t) == AUTOTUNE})


class OptionsDataset(_PassThroughDataset):
    """`with_options`: an identity node whose `serialized_options` attr holds the options' proto bytes."""
    _op_type = "OptionsDataset"

    def __init__(self, input_ds: Dataset, options):
        from graphcompat.data.options import Options
        if not isinstance(options, Options):
            # TF calls options._to_proto() on whatever it is given.
            raise AttributeError(f"'{type(options).__name__}' object has no attribute '_to_proto'")
        with _ops.colocate_with(input_ds._variant):
            self._record([input_ds], [], input_ds._template, input_ds._specs,
                         attrs={"serialized_options": options._serialize()})
        # TF's bookkeeping: the input's options merged with these, frozen. The merge shares the sub-option
        # objects `options` set (as TF's), so those become read-only too.
        merged = input_ds._options_attr.merge(options)
        merged._set_mutable(False)
        self.__dict__["_merged_options"] = merged


class TakeDataset(Dataset):
    _op_type = "TakeDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(count, _dt.int64, name="count")
        self._count = _static_int(t)
        self._record([input_ds], [t], input_ds._template, input_ds._specs)

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        if count == 0:
            return
        for k, elem in enumerate(b.children[0].ds._iter(b.children[0], rt)):
            yield elem
            if k + 1 == count:
                return

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        return n if self._count < 0 else min(n, self._count)

    def _dev_ok(self):
        return self._card() is not None and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n, nc = self._card(), self._children[0]._card()
        if n == INF:
            return self._children[0]._dev_elem(i, dv, rt)
        return self._children[0]._dev_elem(_child_index(nc, i // n, i % n), dv, rt)


class SkipDataset(Dataset):
    _op_type = "SkipDataset"

    def __init__(self, input_ds: Dataset, count):
        t = convert_to_tensor(count, _dt.int64, name="count")
        self._count = _static_int(t)
        self._record([input_ds], [t], input_ds._template, input_ds._specs)

    def _iter(self, b, rt):
        count = int(b.vals[self._tensors[0]])
        for k, elem in enumerate(b.children[0].ds._iter(b.children[0], rt)):
            if count >= 0 and k >= count:
                yield elem

    def _card(self):
        n = self._children[0]._card()
        if n is None or self._count is None:
            return None
        if n == INF:
            return INF if self._count >= 0 else 0
        return 0 if self._count < 0 else max(n - self._count, 0)

    def _dev_ok(self):
        return self._card() not in (None, 0) and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        n, nc = self._card(), self._children[0]._card()
        if n == INF:
            return self._children[0]._dev_elem(i + self._count, dv, rt)
        return self._children[0]._dev_elem((i // n) * nc + self._count + i % n, dv, rt)


class CacheDataset(Dataset):
    _op_type = "CacheDataset"  # TF 1 graph mode's op (CacheDatasetV2 takes a memory-cache resource)

    def __init__(self, input_ds: Dataset, filename):
        t = convert_to_tensor(filename, _dt.string, name="filename")
        self._record([input_ds], [t], input_ds._template, input_ds._specs)

    def _iter(self, b, rt):
        cached = rt.cache.get(id(self))
        if cached is not None:
            yield from cached
            return
        out = []
        for elem in b.children[0].ds._iter(b.children[0], rt):
            out.append(elem)
            yield elem
        rt.cache[id(self)] = out  # complete only once the input was read to its end (as TF)

    def _card(self):
        return self._children[0]._card()

    def _dev_ok(self):
        return self._card() not in (None, INF, 0) and self._children[0]._dev_ok()

    def _dev_elem(self, i, dv, rt):
        return self._children[0]._dev_elem(i % self._card(), dv, rt)  # every epoch replays the first


class UnbatchDataset(Dataset):
    _op_type = "UnbatchDataset"

    def __init__(self, input_ds: Dataset):
        if nest.has_sparse(input_ds._template):
            raise NotImplementedError("tf.data.Dataset.unbatch of SparseTensor components is not supported by "
                                      "graphcompat.")
        for s in input_ds._specs:
            if s.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        specs = [Spec(s.dtype, s.shape[1:] if s.shape.ndims is not None else None) for s in input_ds._specs]
        self._record([input_ds], [], input_ds._template, specs)

    def _iter(self, b, rt):
        for elem in b.children[0].ds._iter(b.children[0], rt):
            n = {np.shape(x)[0] for x in elem}
            if len(n) != 1:
                raise errors.InvalidArgumentError(None, self._variant.op,
                                                  "Input element must have the same batch size in each component.")
            for k in range(n.pop()):
                yield [np.asarray(x)[k] for x in elem]


class DevicePlan:
    """How an iterator walks `ds` on the device (see `device_plan`)."""

    __slots__ = ("ok", "ragged", "shuffle", "batch", "nodes")

    def __init__(self, ok: bool, ragged=None, shuffle=None, batch=None, nodes=()):
        self.ok, self.ragged, self.shuffle, self.batch = ok, ragged, shuffle, batch
        self.nodes = list(nodes)  # the pipeline's nodes in walk order (per-node seeds use the index)

    def epochs_of_step(self, c: int) -> tuple:
        """The epochs of the small-buffer shuffle that GetNext call `c` reads (at most two)."""
        n = self.shuffle._card()
        if self.batch is None:
            return c // n, c // n
        nb_in, b = self.batch._children[0]._card(), self.batch._b
        if nb_in == INF:
            lo, size = c * b, b
        else:
            nb = nb_in // b if self.batch._drop else -(-nb_in // b)
            lo = (c // nb) * nb_in + (c % nb) * b
            size = self.batch.batch_size_of(c) if self.batch._ragged() else b
        return lo // n, (lo + size - 1) // n


def device_plan(ds: Dataset) -> DevicePlan:
    """Whether an iterator's pipeline is walked on the device, and what the host must tell each step.

    Allowed once each, reached from the top through index-preserving nodes (map, prefetch, repeat):
    a batch whose epochs end with a smaller batch (the host passes each step's batch size), and a
    shuffle whose buffer is smaller than its input (the host computes TF's buffered order per epoch;
    one batch, ragged or not, may sit above it).
    """
    if not ds._dev_ok():
        return DevicePlan(False)
    ragged = [n for n in ds._nodes() if isinstance(n, BatchDataset) and n._ragged()]
    small = [n for n in ds._nodes() if isinstance(n, ShuffleDataset) and n._small_buffer()]
    if len(ragged) > 1 or len(small) > 1:
        return DevicePlan(False)
    pending = {id(n) for n in ragged + small}
    node, batch = ds, None
    while pending:
        if id(node) in pending:
            pending.discard(id(node))
            if not pending:
                break
        if isinstance(node, BatchDataset):  # the one batch allowed above a small-buffer shuffle
            if not small or batch is not None or node._b > small[0]._card():
                return DevicePlan(False)
            batch = node
        elif not isinstance(node, (MapDataset, PrefetchDataset, RepeatDataset, OptionsDataset)):
            return DevicePlan(False)
        node = node._children[0]
    return DevicePlan(True, ragged=(ragged or [None])[0], shuffle=(small or [None])[0], batch=batch,
                      nodes=ds._nodes())
