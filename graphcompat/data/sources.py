"""tf.data sources and combinators: `from_tensor_slices`, `from_tensors`, `range`, `zip`, `concatenate`.

Each class implements the runtime protocol of dataset_ops.py: `_iter` (host walk), `_card`, `_dev_ok`,
`_dev_elem` (device walk, periodic indexing).
"""
from __future__ import annotations

import numpy as np

from graphcompat.data import structure as nest
from graphcompat.data.dataset_ops import INF, Dataset, Spec, _static_int
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import convert_to_tensor


def _host_value(value, dtype) -> np.ndarray:
    """A component's value on the host walk; strings as object arrays of bytes (as graphcompat's string
    ops hold them), whatever the op that computed them returned (MatchingFiles: a bytes array)."""
    value = np.asarray(value)
    return value.astype(object) if dtype == _dt.string and value.dtype != object else value


def _child_index(child_card, e, p):
    """The index into a child for position `p` of epoch `e` of its parent (periodic indexing)."""
    return p if child_card == INF else e * child_card + p


class TensorSliceDataset(Dataset):
    _op_type = "TensorSliceDataset"

    def __init__(self, tensors, is_files: bool = False):
        """`is_files`: TF's mark on the file names a reader reads (`tf.data.TextLineDataset` & co.)."""
        if isinstance(tensors, Dataset) or tensors is None:
            raise TypeError(f"`from_tensor_slices` does not accept {tensors!r}")
        template = nest.template_of(tensors)
        with _ops.name_scope("normalize_element"):
            comps = [convert_to_tensor(x, name=f"component_{i}") for i, x in enumerate(nest.flatten(tensors))]
        n = _ts.Dimension(None)
        for t in comps:
            if t.shape.ndims == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, but got {t.shape}")
            if t.shape.ndims is not None:
                d = t.shape.dims[0]
                if not n.is_compatible_with(d):
                    raise ValueError(f"Dimensions {n.value} and {d.value} are not compatible")
                n = n.merge_with(d)
        self._n = n.value
        self._record([], comps, template,
                     [Spec(t.dtype, t.shape[1:] if t.shape.ndims is not None else None) for t in comps],
                     attrs={"is_files": bool(is_files)})

    def _validate(self, b):
        sizes = {np.shape(b.vals[t])[0] if np.ndim(b.vals[t]) else None for t in self._tensors}
        if len(sizes) > 1:
            raise errors.InvalidArgumentError(
                None, self._variant.op, "All components must have the same size in the 0th dimension")

    def _iter(self, b, rt):
        vals = [_host_value(b.vals[t], t.dtype) for t in self._tensors]
        # a string slice stays an (object) array: v[i] of a vector would be the bare bytes
        index = [(lambda v, i: v[i, ...]) if v.dtype == object else (lambda v, i: v[i]) for v in vals]
        for i in range(vals[0].shape[0]):
            yield [at(v, i) for at, v in zip(index, vals)]

    def _card(self):
        return self._n

    def _dev_ok(self):
        return self._n is not None and all(s.dtype != _dt.string for s in self._specs)

    def _dev_tensors(self):
        return list(self._tensors)

    def _dev_elem(self, i, dv, rt):
        import jax
        j = i % self._n
        return [jax.lax.dynamic_index_in_dim(dv[t], j, keepdims=False) for t in self._tensors]


class TensorDataset(Dataset):
    _op_type = "TensorDataset"

    def __init__(self, tensors):
        template = nest.template_of(tensors)
        with _ops.name_scope("normalize_element"):
            comps = [convert_to_tensor(x, name=f"component_{i}") for i, x in enumerate(nest.flatten(tensors))]
        self._record([], comps, template, [Spec(t.dtype, t.shape) for t in comps])

    def _iter(self, b, rt):
        yield [_host_value(b.vals[t], t.dtype) for t in self._tensors]

    def _card(self):
        return 1

    def _dev_ok(self):
        return all(s.dtype != _dt.string for s in self._specs)

    def _dev_tensors(self):
        return list(self._tensors)

    def _dev_elem(self, i, dv, rt):
        return [dv[t] for t in self._tensors]


class RangeDataset(Dataset):
    _op_type = "RangeDataset"

    def __init__(self, *args, output_type=_dt.int64):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: {args}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
        tensors = [convert_to_tensor(v, _dt.int64, name=n) for v, n in zip((start, stop, step),
                                                                          ("start", "stop", "step"))]
        self._out_dtype = _dt.as_dtype(output_type)
        self._static = [_static_int(t) for t in tensors]
        self._record([], tensors, None, [Spec(self._out_dtype, [])])

    def _validate(self, b):
        if int(b.vals[self._tensors[2]]) == 0:
            raise errors.InvalidArgumentError(None, self._variant.op, "step must be a non-zero integer.")

    def _iter(self, b, rt):
        start, stop, step = (int(b.vals[t]) for t in self._tensors)
        dtype = self._out_dtype.as_numpy_dtype
        for v in range(start, stop, step):
            yield [np.asarray(v, dtype)]

    def _card(self):
        if None in self._static or self._static[2] == 0:
            return None
        return len(range(*self._static))

    def _dev_ok(self):
        return self._card() is not None

    def _dev_elem(self, i, dv, rt):
        import jax.numpy as jnp
        start, _, step = self._static
        n = self._card()
        return [(start + (i % max(n, 1)) * step).astype(jnp.dtype(self._out_dtype.as_numpy_dtype))]


# --- combinators --------------------------------------------------------------------------------
class ZipDataset(Dataset):
    _op_type = "ZipDataset"

    def __init__(self, datasets):
        leaves = nest.flatten(datasets)
        for d in leaves:
            if not isinstance(d, Dataset):
                raise TypeError(f"The argument to `Dataset.zip()` must be a (nested) structure of `Dataset` "
                                f"objects. Got {type(d).__name__}.")
        template = nest.pack(datasets, [d._template if d._template is not None else None for d in leaves])
        self._record(leaves, [], template, [s for d in leaves for s in d._specs])

    def _iter(self, b, rt):
        its = [c.ds._iter(c, rt) for c in b.children]
        for parts in zip(*its):
            yield [x for p in parts for x in p]

    def _card(self):
        cards = [c._card() for c in self._children]
        return None if None in cards else min(cards)

    def _dev_ok(self):
        return self._card() is not None and all(c._dev_ok() for c in self._children)

    def _dev_elem(self, i, dv, rt):
        n = self._card()
        e, p = (0, i) if n == INF else (i // n, i % n)
        out = []
        for c in self._children:
            out += c._dev_elem(_child_index(c._card(), e, p), dv, rt)
        return out


class ConcatenateDataset(Dataset):
    _op_type = "ConcatenateDataset"

    def __init__(self, a: Dataset, b: Dataset):
        if [s.dtype for s in a._specs] != [s.dtype for s in b._specs]:
            raise TypeError(f"Incompatible dataset elements:\n  {a.output_types} vs.   {b.output_types}")
        specs = [Spec(x.dtype, x.shape.most_specific_compatible_shape(y.shape)) for x, y in zip(a._specs, b._specs)]
        self._record([a, b], [], a._template, specs)

    def _iter(self, b, rt):
        for c in b.children:
            yield from c.ds._iter(c, rt)

    def _card(self):
        a, b = (c._card() for c in self._children)
        return None if a is None or b is None else a + b

    def _dev_ok(self):
        a, b = self._children
        return self._card() not in (None, INF) and a._dev_ok() and b._dev_ok() and all(
            x.shape.is_fully_defined() and x.shape == y.shape for x, y in zip(a._specs, b._specs))

    def _dev_elem(self, i, dv, rt):
        import jax.numpy as jnp
        a, b = self._children
        na, nb = a._card(), b._card()
        e, p = i // (na + nb), i % (na + nb)
        xa = a._dev_elem(e * na + jnp.minimum(p, na - 1), dv, rt)
        xb = b._dev_elem(e * nb + jnp.maximum(p - na, 0), dv, rt)
        return [jnp.where(p < na, u, v) for u, v in zip(xa, xb)]
