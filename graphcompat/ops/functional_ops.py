"""`tf.map_fn`, `tf.scan`, `tf.foldl`, `tf.foldr` as TF1 records them (python/ops/map_fn.py and
functional_ops.py): the elements are unstacked into TensorArrays, one `tf.while_loop` (its
`maximum_iterations` the number of elements) reads one element per iteration, calls `fn` and writes
what it returns into TensorArrays that are stacked after the loop.

Nothing here is graphcompat's own op type: the graph is TF's While over TensorArrayV3 ops, so TF imports
and runs it, and the lowering needs no rule of its own (lowering/rules/control_flow.py differentiates the
loop under `jax.vjp` with lowering/reverse_loop.py, so gradients flow through it).
"""
from __future__ import annotations

from graphcompat import nest
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, convert_to_tensor
from graphcompat.ops.control_flow_ops import while_loop
from graphcompat.ops.tensor_array_ops import TensorArray


def _require_callable(fn, text: str) -> None:
    if not callable(fn):
        raise TypeError(text.format(getattr(fn, "__name__", fn)))


def _num_elements(elems_flat):
    """TF's `n`: the static leading dimension when known, else `tf.shape(elems[0])[0]`."""
    from graphcompat.ops.array_ops import shape
    n = elems_flat[0].shape.with_rank_at_least(1)[0].value
    return n if n else shape(elems_flat[0])[0]


def _static_rows(elems_flat) -> _ts.Dimension:
    n = _ts.Dimension(elems_flat[0].shape.with_rank_at_least(1)[0].value)
    for e in elems_flat[1:]:
        n.assert_is_compatible_with(_ts.Dimension(e.shape.with_rank_at_least(1)[0].value))
    return n


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False,
           infer_shape=True, name=None, fn_output_signature=None):
    """`tf.map_fn` (tf.compat.v1): `fn` on each slice of `elems` along dimension 0, results stacked."""
    if fn_output_signature is None:
        fn_output_signature = dtype
    _require_callable(fn, "The provided function {} is not callable.fn must be callable.")
    parallel_iterations = parallel_iterations or 10
    elems_flat = nest.flatten(elems)
    if not elems_flat:
        raise ValueError("elems must be a Tensor or (possibly nested) sequence of Tensors. "
                         f"Got {elems}, which does not contain any Tensors.")
    if fn_output_signature is None:
        result_dtypes = None  # the elements' dtypes, known once they are tensors
        result_pack = lambda flat: nest.pack_sequence_as(elems, flat)  # noqa: E731
    else:
        result_dtypes = [_as_dtype(d) for d in nest.flatten(fn_output_signature)]
        result_pack = lambda flat: nest.pack_sequence_as(fn_output_signature, flat)  # noqa: E731
    with _ops.name_scope(name, "map", elems_flat):
        elems_flat = [convert_to_tensor(t, name="elem") for t in elems_flat]
        first = elems_flat[0]
        if first.shape.ndims is not None and first.shape.ndims < 1:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
        n_static = _static_rows(elems_flat)
        n = n_static.value or _num_elements(elems_flat)
        elems_ta = [TensorArray(dtype=t.dtype, size=n, dynamic_size=False, infer_shape=True) for t in elems_flat]
        elems_ta = [ta.unstack(t) for ta, t in zip(elems_ta, elems_flat)]
        i = constant(0)
        if result_dtypes is None:
            result_dtypes = [t.dtype.base_dtype for t in elems_flat]
        result_ta = [TensorArray(dtype=d, size=n, dynamic_size=False, infer_shape=infer_shape,
                                 element_shape=None) for d in result_dtypes]

        def compute(i, tas):
            value = fn(nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta]))
            nest.assert_same_structure(fn_output_signature or elems, value)
            flat = nest.flatten(value)
            return (i + 1, [ta.write(i, v) for ta, v in zip(tas, flat)])

        _, r_a = while_loop(lambda i, _: i < n, compute, (i, result_ta), parallel_iterations=parallel_iterations,
                            back_prop=back_prop, swap_memory=swap_memory, maximum_iterations=n)
        results = [r.stack() for r in r_a]
        for r in results:
            r.set_shape(_ts.TensorShape([n_static]).concatenate(r.shape[1:]))
        return result_pack(results)


def _as_dtype(d):
    from graphcompat.framework import dtypes
    return dtypes.as_dtype(d).base_dtype


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False,
         infer_shape=True, reverse=False, name=None):
    """`tf.scan`: every accumulator value `fn(acc, elem)`, stacked (the first element seeds it when no
    initializer is given)."""
    _require_callable(fn, "{} is not callable. Please provide a callable function.")
    input_is_sequence = nest.is_nested(elems)

    def input_pack(flat):
        return nest.pack_sequence_as(elems, flat) if input_is_sequence else flat[0]

    if initializer is None:
        output_is_sequence, output_pack = input_is_sequence, input_pack
    else:
        output_is_sequence = nest.is_nested(initializer)

        def output_pack(flat):
            return nest.pack_sequence_as(initializer, flat) if output_is_sequence else flat[0]

    def output_flatten(x):
        return nest.flatten(x) if output_is_sequence else [x]

    elems_flat = nest.flatten(elems) if input_is_sequence else [elems]
    with _ops.name_scope(name, "scan", elems_flat):
        elems_flat = [convert_to_tensor(e, name="elem") for e in elems_flat]
        n = elems_flat[0].shape.with_rank_at_least(1)[0].value
        if n is None:
            from graphcompat.ops.array_ops import shape
            n = shape(elems_flat[0])[0]
        elems_ta = [TensorArray(dtype=e.dtype, size=n, dynamic_size=False, element_shape=e.shape[1:],
                                infer_shape=True) for e in elems_flat]
        elems_ta = [ta.unstack(e) for ta, e in zip(elems_ta, elems_flat)]
        if initializer is None:
            a_flat = [ta.read(n - 1 if reverse else 0) for ta in elems_ta]
            i = 1
        else:
            a_flat = [convert_to_tensor(a) for a in output_flatten(initializer)]
            i = 0
        accs_ta = [TensorArray(dtype=a.dtype, size=n, element_shape=a.shape if infer_shape else None,
                               dynamic_size=False, infer_shape=infer_shape) for a in a_flat]
        if initializer is None:
            accs_ta = [ta.write(n - 1 if reverse else 0, a) for ta, a in zip(accs_ta, a_flat)]

        def compute(i, a_flat, tas):
            a_out = fn(output_pack(a_flat), input_pack([ta.read(i) for ta in elems_ta]))
            nest.assert_same_structure(elems if initializer is None else initializer, a_out)
            flat_out = output_flatten(a_out)
            tas = [ta.write(i, v) for ta, v in zip(tas, flat_out)]
            return (i - 1 if reverse else i + 1, flat_out, tas)

        if reverse:
            initial_i = n - 1 - i
            condition = lambda i, _1, _2: i >= 0  # noqa: E731
        else:
            initial_i = i
            condition = lambda i, _1, _2: i < n  # noqa: E731
        _, _, r_a = while_loop(condition, compute, (initial_i, a_flat, accs_ta),
                               parallel_iterations=parallel_iterations, back_prop=back_prop,
                               swap_memory=swap_memory, maximum_iterations=n)
        results = [r.stack() for r in r_a]
        n_static = _static_rows(elems_flat)
        for r in results:
            r.set_shape(_ts.TensorShape([n_static]).concatenate(r.shape[1:]))
        return output_pack(results)


def _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, right: bool):
    _require_callable(fn, "{} is not callable. Please provide a callable function.")
    with _ops.name_scope(name, "foldr" if right else "foldl", [elems]):
        elems_flat = [convert_to_tensor(e, name="elem") for e in nest.flatten(elems)]
        n = _num_elements(elems_flat)
        elems_ta = nest.pack_sequence_as(elems, [
            TensorArray(dtype=e.dtype, size=n, dynamic_size=False, infer_shape=True).unstack(e)
            for e in elems_flat])

        def read(i):
            return nest.map_structure(lambda ta: ta.read(i), elems_ta)

        if right:
            if initializer is None:
                i = n - 1
                a = read(i)
            else:
                i, a = n, initializer

            def compute(i, a):
                i -= 1
                return [i, fn(a, read(i))]
            condition = lambda i, a: i > 0  # noqa: E731
        else:
            if initializer is None:
                a, i = read(0), constant(1)
            else:
                a, i = initializer, constant(0)

            def compute(i, a):
                return [i + 1, fn(a, read(i))]
            condition = lambda i, a: i < n  # noqa: E731
        _, r_a = while_loop(condition, compute, [i, a], parallel_iterations=parallel_iterations,
                            back_prop=back_prop, swap_memory=swap_memory, maximum_iterations=n)
        return r_a


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """`tf.foldl`: fn(…fn(fn(initializer, e0), e1)…)."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, right=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """`tf.foldr`: foldl from the last element."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, right=True)


__all__ = ["map_fn", "scan", "foldl", "foldr"]
