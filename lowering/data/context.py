"""TF's context on an error a dataset's function raises: "Error in user-defined function passed to <dataset
name> transformation with iterator: <iterator prefix>: <the error>" (DatasetBaseIterator::AddErrorContext,
tensorflow/core/framework/dataset.h), which map, filter, flat_map and the interleaves add to their function's
error (map_and_batch, scan, take_while, group_by_window do not).

The dataset name is the dataset's metadata name: the one the op records, else `<op type>:<N>`, N a process-wide
counter that every dataset made without a name advances (DatasetBase::Initialize), so each run of a dataset
op (an initializer, a flat_map's function) names a new dataset (`dataset_name`, called when the op is bound).

The iterator prefix names the iterators from the root down to the failing one ("Iterator::Root::Prefetch::
ForeverRepeat[0]::ParallelMapV2"): each iterator's dataset type (name_utils::IteratorPrefix), an index where a
dataset makes several input iterators (a repetition, a zip's input, a flat_map's element, an interleave's
cycle slot), on the pipeline TF's static optimizations rewrote (tf.data's default graph rewrites):
- inject_prefetch: a Prefetch after the last dataset, unless that one is asynchronous (the main pipeline);
- map_parallelization: a map whose function keeps no state (Asserts aside) runs as ParallelMapV2 (the main
  pipeline; the dataset keeps its MapDataset name);
- map_and_batch_fusion: map then batch run as one MapAndBatch (whose function errors get no context);
- shuffle_and_repeat_fusion: shuffle then repeat run as one ShuffleAndRepeat;
- noop_elimination: take(-1), skip(0), repeat(1), shard(1, 0) are gone; with_options leaves no iterator.

A host walk knows where each dataset value's iterator sits from the bound itself (`Bound.up`: set when the
bound that reads it is made, and where an iterator makes it with an index or through a function), up
to its iterator's root (`HostRT.root`); a device walk from the pipeline's nodes (`DevRT.root`) and the epochs
its repeats record (`DevRT.epochs`).
"""
from __future__ import annotations

import itertools
from typing import Optional

from graphcompat.framework import errors
from graphcompat.framework.constant_op import constant_value
from graphcompat.framework.registry import get_op_def

DATASET_IDS = itertools.count()  # TF's process-wide counter of datasets made without a metadata name


def metadata_name(op) -> str:
    """The `name` (field 1) of the op's serialized data.Metadata proto attr, '' when it has none."""
    raw = op.attrs.get("metadata") or b""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    pos = 0
    while pos < len(raw):
        key, pos = _varint(raw, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            size, pos = _varint(raw, pos)
            if field == 1:
                return raw[pos:pos + size].decode("utf-8", "replace")
            pos += size
        elif wire == 0:
            _, pos = _varint(raw, pos)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            return ""
    return ""


def _varint(raw: bytes, pos: int) -> tuple:
    value = shift = 0
    while pos < len(raw):
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, pos


def dataset_name(node=None):
    """TF's name of the dataset a run of the dataset op of pipeline node `node` makes (DatasetBase::Initialize):
    the op's metadata name (`Node._metadata_name`), else the next number of the counter (`<op type>:<number>`,
    formatted by `name_text` when an error needs it: a pipeline binds datasets per element)."""
    return (node is not None and node._metadata_name) or next(DATASET_IDS)


def name_text(bound) -> Optional[str]:
    """The dataset name `dataset_name` gave `bound`, as TF's errors print it."""
    name = getattr(bound, "name", None)
    return f"{bound.ds._op.type}:{name}" if isinstance(name, int) else name


# --- where an iterator sits ------------------------------------------------------------------------
# the inputs a dataset makes its iterators of with an index: {op type: input position → index or None}
_INDEXED_INPUTS = {
    "ZipDataset": lambda j: j,
    "ConcatenateDataset": lambda j: j,
    "DirectedInterleaveDataset": lambda j: j - 1 if j else None,  # the selector's iterator has none
    "ExperimentalDirectedInterleaveDataset": lambda j: j - 1 if j else None,
}


def _host_chain(b, rt) -> list:
    """[(node, index, inner)] from the iterator's root dataset down to `b`'s (index, inner: of the link to its
    parent). A dataset's position among its parent's inputs gives the index of a zip's or concatenate's."""
    root = getattr(rt, "root", None)
    chain, seen = [], set()
    while b is not None and id(b) not in seen:
        seen.add(id(b))
        parent, index, inner = (b.up if b is not root else None) or (None, None, False)
        if parent is not None and index is None and not inner:
            indexed = _INDEXED_INPUTS.get(parent.ds._op.type)
            if indexed is not None:
                index = indexed(next(j for j, c in enumerate(parent.children) if c is b))
        chain.append((b.ds, index, inner))
        b = parent
    return chain[::-1]


def _device_chain(node, rt) -> list:
    root = getattr(rt, "root", None)
    epochs = getattr(rt, "epochs", {})

    def path(n):
        if n is node:
            return [(n, None, False)]
        for j, c in enumerate(n._children):
            below = path(c)
            if below:
                indexed = _INDEXED_INPUTS.get(n._op.type)
                index = epochs.get(id(n)) if n._op.type == "RepeatDataset" else indexed(j) if indexed else None
                first = below[0]
                return [(n, None, False), (first[0], index, first[2])] + below[1:]
        return []
    chain = path(root) if root is not None else []
    return chain or [(node, None, False)]


# --- the iterator names of TF's rewritten pipeline -------------------------------------------------
_GONE = {"OptionsDataset", "ModelDataset", "OptimizeDataset", "OptimizeDatasetV2", "RewriteDataset"}  # no iterator
# of their own (RewriteDataset makes the dataset its rewrite gives)
# the asynchronous datasets: no prefetch is injected after one
_ASYNC = {"Prefetch", "ParallelMapV2", "ParallelInterleaveV4", "MapAndBatch", "ParallelBatch"}
_NAMES = {"SlidingWindowDataset": "Slide"}  # TF's iterator names that are not the op type's stem
_MAPS = {"MapDataset", "ParallelMapDatasetV2", "ParallelMapDataset"}
_BATCHES = {"BatchDatasetV2", "BatchDataset"}
_SHUFFLES = {"ShuffleDataset", "ShuffleDatasetV2", "ShuffleDatasetV3"}
# TF's statefulness where graphcompat's OpDefs differ (graphcompat marks some ops stateful for its own
# pruning and placement): what map_parallelization reads
_TF_STATEFUL = {"CheckNumerics", "CheckNumericsV2", "Empty", "GuaranteeConst", "If", "Case", "While",
                "StatefulPartitionedCall", "TensorArrayWriteV3", "TensorArrayReadV3", "TensorArrayGatherV3",
                "TensorArrayScatterV3", "TensorArrayConcatV3", "TensorArraySplitV3", "TensorArraySizeV3"}
_TF_STATELESS = {"Assert"}  # IsFunctionStateful(..., skip_assert=true)


def _tf_stateful(op_type: str) -> bool:
    if op_type in _TF_STATEFUL:
        return True
    if op_type in _TF_STATELESS or op_type.endswith("Dataset") or op_type.startswith(("LookupTable", "Queue")):
        return False
    try:
        return get_op_def(op_type).stateful
    except Exception:  # noqa: BLE001 (an op graphcompat does not know: TF treats it as stateful)
        return True


def _static(t) -> Optional[int]:
    v = constant_value(t)
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


def _eliminated(node) -> bool:
    """noop_elimination's datasets (and those that make no iterator of their own)."""
    t = node._op.type
    if t in _GONE:
        return True
    if t in ("TakeDataset", "SkipDataset", "RepeatDataset"):
        count = _static(node._tensors[0])
        return count == {"TakeDataset": -1, "SkipDataset": 0, "RepeatDataset": 1}[t]
    if t == "ShardDataset":
        return _static(node._tensors[0]) == 1
    if t in _MAPS:
        return _identity(getattr(node, "_fn", None))
    return False


def _identity(fn) -> bool:
    """A function that returns its arguments, in order (unbatch's normalizing map): noop_elimination's."""
    if fn is None or len(fn.outputs) != len(fn.args):
        return False
    for out, arg in zip(fn.outputs, fn.args):
        while out is not arg and out.op.type == "Identity":
            out = out.op.inputs[0]
        if out is not arg:
            return False
    return True


def _parallelized(node) -> bool:
    """map_parallelization's test of a MapDataset of the main pipeline."""
    fn = getattr(node, "_fn", None)
    if fn is None or node._op.attrs.get("force_synchronous"):
        return False
    return not any(_tf_stateful(o.type) for o, _, _ in fn.steps)


def _name(node, below, top: bool) -> str:
    """The iterator name of `node` (`below`: the input dataset on the path, after eliminations)."""
    t = node._op.type
    if t.startswith("Experimental"):
        t = t[len("Experimental"):]
    if t == "MapDataset":
        return "ParallelMapV2" if top and _parallelized(node) else "Map"
    if t in _BATCHES and below is not None and below._op.type in _MAPS:
        return "MapAndBatch"
    if t == "RepeatDataset":
        if below is not None and below._op.type in _SHUFFLES:
            return "ShuffleAndRepeat"
        count = _static(node._tensors[0])
        return "ForeverRepeat" if count is not None and count < 0 else "EmptyRepeat" if count == 0 else \
            "FiniteRepeat"
    if t in ("TakeDataset", "SkipDataset"):
        count = _static(node._tensors[0])
        return ("Empty" if count == 0 and t == "TakeDataset" else "Finite") + t[:4]
    if t in _SHUFFLES:
        return "Shuffle"
    if t.startswith("ShuffleAndRepeat"):
        return "ShuffleAndRepeat"
    if t in _NAMES:
        return _NAMES[t]
    if t in ("CacheDataset", "CacheDatasetV2"):
        filename = constant_value(node._tensors[0])
        return "FileCacheImpl" if filename not in (None, b"", "") else "MemoryCacheImpl"
    return t.replace("Dataset", "")


def fused_map_and_batch(batch) -> bool:
    """Whether TF fuses batch node `batch` with the map it reads (map_and_batch_fusion)."""
    if batch._op.type not in _BATCHES:
        return False
    child = batch._children[0] if batch._children else None
    return child is not None and hasattr(child, "_op") and child._op.type in _MAPS and not _eliminated(child)


def _fused_away(node, parent) -> bool:
    """A dataset another one absorbed (the map of a MapAndBatch, the shuffle of a ShuffleAndRepeat)."""
    if parent is None:
        return False
    pt = parent._op.type.replace("Experimental", "")
    t = node._op.type
    return (t in _MAPS and pt in _BATCHES) or (t in _SHUFFLES and pt == "RepeatDataset")


def iterator_prefix(chain: list) -> Optional[str]:
    """The prefix of the last iterator of `chain` ([(node, index, inner)] from the root down), or None when
    TF fused that dataset into another one whose errors get no context."""
    kept = [(n, k, f) for n, k, f in chain if not _eliminated(n)]
    if not kept:
        return None
    nodes = [n for n, _, _ in kept]
    if len(nodes) > 1 and _fused_away(nodes[-1], nodes[-2]):
        return None
    names, top = [], True
    for i, (node, _, inner) in enumerate(kept):
        top = top and not inner
        parent = nodes[i - 1] if i else None
        if _fused_away(node, parent):
            continue
        below = nodes[i + 1] if i + 1 < len(nodes) else _input_of(node)
        name = _name(node, below, top)
        index = kept[i + 1][1] if i + 1 < len(kept) else None
        if name == "ShuffleAndRepeat":
            index = None
        names.append(name if index is None else f"{name}[{index}]")
    # inject_prefetch: after the main pipeline's last dataset (the chain's root), unless it is asynchronous
    root = names[0].split("[")[0]
    return "::".join(["Iterator::Root"] + ([] if root in _ASYNC else ["Prefetch"]) + names)


def _input_of(node):
    """The input dataset a batch or repeat reads (for its name when the path ends there)."""
    children = [c for c in node._children if hasattr(c, "_op")]
    while children and _eliminated(children[0]):
        children = [c for c in children[0]._children if hasattr(c, "_op")]
    return children[0] if len(node._children) == 1 and children else None


def _with_context(error, name: str, prefix: Optional[str]):
    if prefix is None or not isinstance(error, errors.OpError) or \
            isinstance(error, (errors.CancelledError, errors.OutOfRangeError)):
        return error
    return type(error)(error.node_def, error.op, f"Error in user-defined function passed to {name} transformation "
                                                  f"with iterator: {prefix}: {error.message}")


def function_error(error, b, rt):
    """`error` of bound `b`'s function as TF's iterator returns it (host walk)."""
    name = name_text(b)
    if name is None:
        return error
    return _with_context(error, name, iterator_prefix(_host_chain(b, rt)))


def device_function_error(error, node, rt, name: Optional[str]):
    """`error` of `node`'s function as TF's iterator returns it (device walk; `name`: its dataset's name)."""
    if name is None:
        return error
    return _with_context(error, name, iterator_prefix(_device_chain(node, rt)))
