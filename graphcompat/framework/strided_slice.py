"""TF's strided-slice spec (tensorflow/core/util/strided_slice_op.cc, ValidateStridedSliceOp) in Python.

`canonical_strided_slice` expands a StridedSlice's sparse spec (masks, ellipsis, new axes) against the
input's dims. The front end's shape inference and constant folding and the back end's lowering rules all
use it, so a static shape and the runtime result agree by construction.
"""
from __future__ import annotations

import builtins
from typing import Optional, Sequence

import numpy as np

NEW_AXIS = "new"   # markers in a canonical spec
SHRINK = "shrink"


def canonical_strided_slice(dims: Sequence[Optional[int]], begin, end, strides, begin_mask: int, end_mask: int,
                            ellipsis_mask: int, new_axis_mask: int, shrink_axis_mask: int, error=ValueError):
    """Expands a StridedSlice spec against input dims (None = unknown).

    Returns a list with one entry per output position *before* shrinking:
    `(NEW_AXIS,)`, or `(SHRINK, dense_dim, index)`, or `("slice", dense_dim, start, stop, step, size)`
    where start/stop are Python-slice bounds (None when masked) and size is None when unknown.
    `begin`/`end` may be None (values unknown while building): sizes of those dims are then unknown.
    """
    n = len(strides)
    rank = len(dims)
    if not ellipsis_mask & ((1 << n) - 1):  # TF appends an implicit ellipsis
        ellipsis_mask |= 1 << n
        n_sparse = n + 1
    else:
        n_sparse = n
    if bin(ellipsis_mask & ((1 << n_sparse) - 1)).count("1") > 1:
        raise error("Multiple ellipses in slice spec not allowed")
    out = []
    full = 0
    for i in range(n_sparse):
        bit = 1 << i
        if ellipsis_mask & bit:
            after_new = sum(1 for j in range(i + 1, n) if new_axis_mask & (1 << j))
            after_dense = (n_sparse - i - 1) - after_new
            stop_dim = max(rank - after_dense, full)
            for d in range(full, stop_dim):
                out.append(("slice", d, None, None, 1, dims[d]))
            full = stop_dim
            continue
        if new_axis_mask & bit:
            out.append((NEW_AXIS,))
            continue
        if full >= rank:
            raise error(f"Index out of range using input dim {full}; input has only {rank} dims")
        stride = int(strides[i])
        if stride == 0:
            raise error(f"strides[{i}] must be non-zero")
        dim = dims[full]
        if shrink_axis_mask & bit:
            if begin is None:
                out.append((SHRINK, full, None))
            else:
                index = int(begin[i])
                if dim is not None and not -dim <= index < dim:
                    raise error(f"slice index {index + dim if index < 0 else index} of dimension {full} out of bounds.")
                out.append((SHRINK, full, index if dim is None or index >= 0 else index + dim))
        else:
            start = None if begin_mask & bit else (None if begin is None else int(begin[i]))
            stop = None if end_mask & bit else (None if end is None else int(end[i]))
            known = (begin_mask & bit or begin is not None) and (end_mask & bit or end is not None)
            size = len(range(*builtins.slice(start, stop, stride).indices(dim))) if dim is not None and known else None
            out.append(("slice", full, start, stop, stride, size))
        full += 1
    return out


def numpy_strided_slice(x: np.ndarray, begin, end, strides, attrs: dict):
    """A StridedSlice on a host array (shared by constant folding and the lowering rule)."""
    spec = canonical_strided_slice(list(np.shape(x)), begin, end, strides, attrs["begin_mask"], attrs["end_mask"],
                                   attrs["ellipsis_mask"], attrs["new_axis_mask"], attrs["shrink_axis_mask"])
    return index_from_spec(spec)


def index_from_spec(spec) -> tuple:
    index = []
    for entry in spec:
        if entry[0] == NEW_AXIS:
            index.append(None)
        elif entry[0] == SHRINK:
            index.append(entry[2])
        else:
            index.append(builtins.slice(entry[2], entry[3], entry[4]))
    return tuple(index)
