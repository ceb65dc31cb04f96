"""Pipeline nodes of tf.data's sources and combinators: TensorSliceDataset, TensorDataset, RangeDataset,
ZipDataset, ConcatenateDataset (walk protocol: lowering/data/pipeline.py)."""
from __future__ import annotations

import numpy as np

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from lowering.data.pipeline import INF, Failed, Node, pipeline_node, static_int


def host_value(value, dtype) -> np.ndarray:
    """A component's value on the host walk; strings as object arrays of bytes (as graphcompat's string
    ops hold them), whatever the op that computed them returned (MatchingFiles: a bytes array)."""
    value = np.asarray(value)
    return value.astype(object) if dtype == _dt.string and value.dtype != object else value


def child_index(child_card, e, p):
    """The index into a child for position `p` of epoch `e` of its parent (periodic indexing)."""
    return p if child_card == INF else e * child_card + p


@pipeline_node("TensorSliceDataset")
class TensorSliceNode(Node):
    n_children = 0

    def _setup(self):
        n = None
        for t in self._tensors:  # the static size of the sliced dimension (all agree, as the builder checked)
            if t.shape.ndims is not None and t.shape.dims[0].value is not None:
                n = t.shape.dims[0].value
        self._n = n

    def _validate(self, b):
        sizes = {np.shape(b.vals[t])[0] if np.ndim(b.vals[t]) else None for t in self._tensors}
        if len(sizes) > 1:
            raise errors.InvalidArgumentError(
                None, self._op, "All components must have the same size in the 0th dimension")

    def _iter(self, b, rt):
        vals = [host_value(b.vals[t], t.dtype) for t in self._tensors]
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


@pipeline_node("TensorDataset")
class TensorNode(Node):
    n_children = 0

    def _iter(self, b, rt):
        yield [host_value(b.vals[t], t.dtype) for t in self._tensors]

    def _card(self):
        return 1

    def _dev_ok(self):
        return all(s.dtype != _dt.string for s in self._specs)

    def _dev_tensors(self):
        return list(self._tensors)

    def _dev_elem(self, i, dv, rt):
        return [dv[t] for t in self._tensors]


@pipeline_node("RangeDataset")
class RangeNode(Node):
    n_children = 0

    def _setup(self):
        self._out_dtype = self._specs[0].dtype
        self._static = [static_int(t) for t in self._tensors]

    def _validate(self, b):
        if int(b.vals[self._tensors[2]]) == 0:
            raise errors.InvalidArgumentError(None, self._op, "step must be a non-zero integer.")

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
@pipeline_node("ZipDataset")
class ZipNode(Node):
    """TF's zip: each GetNext asks every input in turn (a failed one too) until one ends; the first input's
    error is this element's, and an input's end ends the zip (after that error, if an earlier input failed)."""
    passes_failures = True

    @classmethod
    def children_of(cls, op):
        return int(op.attrs["N"])

    def _iter(self, b, rt):
        its = [c.ds._iter(c, rt) for c in b.children]
        while True:
            parts, failed, ended = [], None, False
            for it in its:
                part = next(it, None)
                if part is None:
                    ended = True
                    break
                if isinstance(part, Failed):
                    failed = failed or part
                parts.append(part)
            if failed is not None:
                yield failed
            elif not ended:
                yield [x for p in parts for x in p]
            if ended:
                return

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
            out += c._dev_elem(child_index(c._card(), e, p), dv, rt)
        return out


@pipeline_node("ConcatenateDataset")
class ConcatenateNode(Node):
    n_children = 2
    passes_failures = True  # TF returns an input's error and goes on with that input

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
