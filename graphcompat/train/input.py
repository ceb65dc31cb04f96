"""TF1 queue-based input pipelines (TF's training/input.py): producers, `limit_epochs`, batching.

Producers fill a FIFOQueue from a QueueRunner (`string_input_producer`, `range_input_producer`,
`slice_input_producer`, `input_producer`); `num_epochs` counts epochs in a local variable, so the
producer's enqueue fails with OutOfRangeError after the last epoch and its QueueRunner closes the
queue. `batch`/`shuffle_batch` (and the `_join` and `maybe_` variants) run `num_threads` enqueue
threads into a (Padding)FIFOQueue or RandomShuffleQueue and dequeue batches from it. Graphs, op names
and summaries are TF's.
"""
from __future__ import annotations

from typing import Optional

from graphcompat import variables as _variables
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.constant_op import constant, constant_value, convert_to_tensor
from graphcompat.ops import data_flow_ops, io_ops
from graphcompat.train.queue_runner import QueueRunner, add_queue_runner


def _summary_scalar(name: str, tensor) -> None:
    from graphcompat.ops.summary_ops import scalar
    scalar(name, tensor)


# ------------------------------------------------------------------------------------------------
# Producers
# ------------------------------------------------------------------------------------------------
def match_filenames_once(pattern, name: Optional[str] = None):
    """`tf.train.match_filenames_once`: a local variable holding the files matching `pattern`, computed once
    by `local_variables_initializer()`."""
    with _ops.name_scope(name, "matching_filenames", [pattern]) as name:
        return _variables.Variable(name=name, initial_value=io_ops.matching_files(pattern), trainable=False,
                                   validate_shape=False, collections=[_ops.GraphKeys.LOCAL_VARIABLES])


def limit_epochs(tensor, num_epochs: Optional[int] = None, name: Optional[str] = None):
    """`tf.train.limit_epochs`: `tensor`, but only `num_epochs` times; then OutOfRangeError."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    from graphcompat.ops.array_ops import identity
    with _ops.name_scope(name, "limit_epochs", [tensor]) as name:
        zero64 = constant(0, dtype=_dt.int64)
        epochs = _variables.Variable(zero64, name="epochs", trainable=False,
                                     collections=[_ops.GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with _ops.control_dependencies([counter]):
            return identity(tensor, name=name)


def input_producer(input_tensor, element_shape=None, num_epochs: Optional[int] = None, shuffle: bool = True,
                   seed: Optional[int] = None, capacity: int = 32, shared_name: Optional[str] = None,
                   summary_name: Optional[str] = None, name: Optional[str] = None, cancel_op=None):
    """`tf.train.input_producer`: a queue fed with the rows of `input_tensor` (shuffled per epoch)."""
    from graphcompat.ops.math_ops import cast
    from graphcompat.ops.random_ops import random_shuffle
    with _ops.name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape[1:].merge_with(_ts.as_shape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = data_flow_ops.FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype], shapes=[element_shape],
                                    shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            _summary_scalar(summary_name, cast(q.size(), _dt.float32) * (1.0 / capacity))
        return q


def string_input_producer(string_tensor, num_epochs: Optional[int] = None, shuffle: bool = True,
                          seed: Optional[int] = None, capacity: int = 32, shared_name: Optional[str] = None,
                          name: Optional[str] = None, cancel_op=None):
    """`tf.train.string_input_producer`: a queue of strings (file names) for a reader."""
    from graphcompat.ops.array_ops import identity, size
    from graphcompat.ops.data_dependent_ops import Assert
    from graphcompat.ops.math_ops import greater
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, _ops.Tensor) and not len(string_tensor):
        raise ValueError(not_null_err)
    with _ops.name_scope(name, "input_producer", [string_tensor]) as name:
        string_tensor = convert_to_tensor(string_tensor, dtype=_dt.string)
        with _ops.control_dependencies([Assert(greater(size(string_tensor), 0), [not_null_err])]):
            string_tensor = identity(string_tensor)
        return input_producer(input_tensor=string_tensor, element_shape=[], num_epochs=num_epochs, shuffle=shuffle,
                              seed=seed, capacity=capacity, shared_name=shared_name, name=name,
                              summary_name=f"fraction_of_{capacity}_full", cancel_op=cancel_op)


def range_input_producer(limit, num_epochs: Optional[int] = None, shuffle: bool = True, seed: Optional[int] = None,
                         capacity: int = 32, shared_name: Optional[str] = None, name: Optional[str] = None):
    """`tf.train.range_input_producer`: a queue of the integers 0 … limit-1."""
    from graphcompat.ops.reduction_ops import range as range_
    with _ops.name_scope(name, "input_producer", [limit]) as name:
        range_tensor = range_(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              f"fraction_of_{capacity}_full", name)


def slice_input_producer(tensor_list, num_epochs: Optional[int] = None, shuffle: bool = True,
                         seed: Optional[int] = None, capacity: int = 32, shared_name: Optional[str] = None,
                         name: Optional[str] = None) -> list:
    """`tf.train.slice_input_producer`: one row (the same index) of every tensor per dequeue."""
    from graphcompat.ops.array_ops import shape
    from graphcompat.ops.indexing_ops import gather
    with _ops.name_scope(name, "input_producer", tensor_list):
        tensor_list = _convert_list(tensor_list)
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [gather(t, index) for t in tensor_list]


# ------------------------------------------------------------------------------------------------
# Batching
# ------------------------------------------------------------------------------------------------
def _convert_list(tensor_list) -> list:
    out = []
    for t in tensor_list:
        if type(t).__name__ == "SparseTensor":
            raise NotImplementedError("tf.train.batch and friends with SparseTensor inputs (SparseTensorsMap) are "
                                      "not supported by graphcompat")
        out.append(convert_to_tensor(t))
    return out


def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    return tensors


def _as_tensor_list_list(tensors_list):
    if not tensors_list:
        raise ValueError("Expected at least one set of tensors")
    if isinstance(tensors_list[0], dict):
        expected_keys = set(tensors_list[0].keys())
        for tensors in tensors_list[1:]:
            if set(tensors.keys()) != expected_keys:
                raise ValueError("All dictionaries in tensors_list must have the same keys")
        return [_as_tensor_list(tensors) for tensors in tensors_list]
    return tensors_list


def _as_original_type(original_tensors, tensor_list):
    if isinstance(original_tensors, dict):
        if len(original_tensors) == 1:
            tensor_list = [tensor_list]
        return {k: tensor_list[i] for i, k in enumerate(sorted(original_tensors, key=str))}
    return tensor_list


def _validate(tensor_list) -> list:
    tensor_list = _convert_list(tensor_list)
    if not tensor_list:
        raise ValueError("Expected at least one tensor in batch().")
    return tensor_list


def _validate_join(tensor_list_list) -> list:
    tensor_list_list = [_convert_list(tl) for tl in tensor_list_list]
    if not tensor_list_list:
        raise ValueError("Expected at least one input in batch_join().")
    return tensor_list_list


def _validate_keep_input(keep_input, enqueue_many: bool):
    keep_input = convert_to_tensor(keep_input)
    if keep_input.shape.ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and keep_input.shape.ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if keep_input.shape.ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _dtypes(tensor_list_list) -> list:
    all_types = [[t.dtype for t in tl] for tl in tensor_list_list]
    types = all_types[0]
    for other_types in all_types[1:]:
        if other_types != types:
            raise TypeError(f"Expected types to be consistent: {', '.join(x.name for x in types)} vs. "
                            f"{', '.join(x.name for x in other_types)}.")
    return types


def _merge_shapes(shape_list, enqueue_many: bool) -> list:
    shape_list = [_ts.as_shape(s) for s in shape_list]
    if enqueue_many:
        shape_list = [s.with_rank_at_least(1)[1:] for s in shape_list]
    merged = shape_list[0]
    for s in shape_list[1:]:
        merged.merge_with(s)  # TF discards the merged result: only incompatibility matters
    return merged.as_list()


def _shapes(tensor_list_list, shapes, enqueue_many: bool):
    if shapes is None:
        len0 = len(tensor_list_list[0])
        for tl in tensor_list_list:
            for i in range(len0):
                if tl[i].shape.ndims is None:
                    raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
        shapes = [_merge_shapes([tl[i].shape.as_list() for tl in tensor_list_list], enqueue_many)
                  for i in range(len0)]
    return shapes


def _smart_cond(pred, true_fn, false_fn):
    """TF's layers.utils.smart_cond: a constant predicate picks its branch at graph build time."""
    value = constant_value(pred)
    if value is not None:
        return true_fn() if bool(value) else false_fn()
    raise NotImplementedError("tf.train.maybe_batch/maybe_shuffle_batch with a scalar `keep_input` tensor (an "
                              "enqueue inside tf.cond) is not supported by graphcompat; pass a Python bool or, "
                              "with enqueue_many=True, a vector")


def _select_which_to_enqueue(tensor_list, keep_input) -> list:
    from graphcompat.ops.data_dependent_ops import dynamic_partition
    from graphcompat.ops.math_ops import cast
    select_i = cast(keep_input, _dt.int32)
    return [dynamic_partition(x, select_i, num_partitions=2)[1] for x in tensor_list]


def _enqueue_ops(queue, tensor_lists, enqueue_many: bool, keep_input) -> list:
    from graphcompat.ops.control_ops import no_op
    enqueue_fn = queue.enqueue_many if enqueue_many else queue.enqueue
    if keep_input.shape.ndims == 1:
        return [enqueue_fn(_select_which_to_enqueue(tl, keep_input)) for tl in tensor_lists]
    return [_smart_cond(keep_input, lambda tl=tl: enqueue_fn(tl), no_op) for tl in tensor_lists]


def _enqueue_join(queue, tensor_list_list, enqueue_many: bool, keep_input) -> None:
    add_queue_runner(QueueRunner(queue, _enqueue_ops(queue, tensor_list_list, enqueue_many, keep_input)))


def _enqueue(queue, tensor_list, threads: int, enqueue_many: bool, keep_input) -> None:
    enqueue_op = _enqueue_ops(queue, [tensor_list], enqueue_many, keep_input)[0]
    add_queue_runner(QueueRunner(queue, [enqueue_op] * threads))


def _which_queue(dynamic_pad: bool):
    return data_flow_ops.PaddingFIFOQueue if dynamic_pad else data_flow_ops.FIFOQueue


def _dequeue(queue, batch_size, allow_smaller_final_batch: bool, name: str):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _fraction_full(queue, capacity: int) -> None:
    from graphcompat.ops.math_ops import cast
    _summary_scalar(f"fraction_of_{capacity}_full", cast(queue.size(), _dt.float32) * (1.0 / capacity))


def _fraction_over(queue, capacity: int, min_after_dequeue: int) -> None:
    from graphcompat.ops.math_ops import cast, maximum
    full = cast(maximum(0, queue.size() - min_after_dequeue), _dt.float32) * (1.0 / (capacity - min_after_dequeue))
    _summary_scalar(f"fraction_over_{min_after_dequeue}_of_{capacity - min_after_dequeue}_full", full)


def _batch(tensors, batch_size, keep_input, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
           dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    tensor_list = _as_tensor_list(tensors)
    with _ops.name_scope(name, "batch", list(tensor_list) + [keep_input]) as name:
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = _which_queue(dynamic_pad)(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        _enqueue(queue, tensor_list, num_threads, enqueue_many, keep_input)
        _fraction_full(queue, capacity)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
        return _as_original_type(tensors, dequeued)


def _batch_join(tensors_list, batch_size, keep_input, capacity=32, enqueue_many=False, shapes=None,
                dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    tensor_list_list = _as_tensor_list_list(tensors_list)
    with _ops.name_scope(name, "batch_join", [t for tl in tensor_list_list for t in tl] + [keep_input]) as name:
        tensor_list_list = _validate_join(tensor_list_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes(tensor_list_list)
        shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        queue = _which_queue(dynamic_pad)(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        _enqueue_join(queue, tensor_list_list, enqueue_many, keep_input)
        _fraction_full(queue, capacity)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
        return _as_original_type(tensors_list[0], dequeued)


def _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads=1, seed=None,
                   enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    tensor_list = _as_tensor_list(tensors)
    with _ops.name_scope(name, "shuffle_batch", list(tensor_list) + [keep_input]) as name:
        if capacity <= min_after_dequeue:
            raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue {min_after_dequeue}.")
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = data_flow_ops.RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed,
                                                 dtypes=types, shapes=shapes, shared_name=shared_name)
        _enqueue(queue, tensor_list, num_threads, enqueue_many, keep_input)
        _fraction_over(queue, capacity, min_after_dequeue)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
        return _as_original_type(tensors, dequeued)


def _shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=None,
                        enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None,
                        name=None):
    tensor_list_list = _as_tensor_list_list(tensors_list)
    with _ops.name_scope(name, "shuffle_batch_join",
                         [t for tl in tensor_list_list for t in tl] + [keep_input]) as name:
        tensor_list_list = _validate_join(tensor_list_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes(tensor_list_list)
        shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        queue = data_flow_ops.RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed,
                                                 dtypes=types, shapes=shapes, shared_name=shared_name)
        _enqueue_join(queue, tensor_list_list, enqueue_many, keep_input)
        _fraction_over(queue, capacity, min_after_dequeue)
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, name)
        return _as_original_type(tensors_list[0], dequeued)


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
          allow_smaller_final_batch=False, shared_name=None, name=None):
    """`tf.train.batch`: batches of `batch_size` from `num_threads` enqueue threads (a FIFO queue; a padding
    queue with `dynamic_pad`)."""
    return _batch(tensors, batch_size, keep_input=True, num_threads=num_threads, capacity=capacity,
                  enqueue_many=enqueue_many, shapes=shapes, dynamic_pad=dynamic_pad,
                  allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def maybe_batch(tensors, keep_input, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
                dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """`tf.train.maybe_batch`: `batch` of the elements whose `keep_input` is true."""
    return _batch(tensors, batch_size, keep_input, num_threads=num_threads, capacity=capacity,
                  enqueue_many=enqueue_many, shapes=shapes, dynamic_pad=dynamic_pad,
                  allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
               allow_smaller_final_batch=False, shared_name=None, name=None):
    """`tf.train.batch_join`: like `batch`, one enqueue thread per tensor list."""
    return _batch_join(tensors_list, batch_size, keep_input=True, capacity=capacity, enqueue_many=enqueue_many,
                       shapes=shapes, dynamic_pad=dynamic_pad, allow_smaller_final_batch=allow_smaller_final_batch,
                       shared_name=shared_name, name=name)


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity=32, enqueue_many=False, shapes=None,
                     dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    return _batch_join(tensors_list, batch_size, keep_input, capacity=capacity, enqueue_many=enqueue_many,
                       shapes=shapes, dynamic_pad=dynamic_pad, allow_smaller_final_batch=allow_smaller_final_batch,
                       shared_name=shared_name, name=name)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None, enqueue_many=False,
                  shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    """`tf.train.shuffle_batch`: batches drawn at random from a RandomShuffleQueue that keeps at least
    `min_after_dequeue` elements (until its input ends)."""
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input=True,
                          num_threads=num_threads, seed=seed, enqueue_many=enqueue_many, shapes=shapes,
                          allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads=1, seed=None,
                        enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None,
                        name=None):
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads=num_threads,
                          seed=seed, enqueue_many=enqueue_many, shapes=shapes,
                          allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None, enqueue_many=False,
                       shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    return _shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input=True, seed=seed,
                               enqueue_many=enqueue_many, shapes=shapes,
                               allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name,
                               name=name)


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=None,
                             enqueue_many=False, shapes=None, allow_smaller_final_batch=False, shared_name=None,
                             name=None):
    return _shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=seed,
                               enqueue_many=enqueue_many, shapes=shapes,
                               allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name,
                               name=name)
