"""`tf.data.experimental`: the names TF1 programs commonly use."""
from __future__ import annotations

from graphcompat.data.dataset_ops import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, INF  # noqa: F401
from graphcompat.data.options import (AutoShardPolicy, AutotuneAlgorithm, AutotuneOptions,  # noqa: F401
                                      DistributeOptions, ExternalStatePolicy, OptimizationOptions, ServiceOptions,
                                      ThreadingOptions)
from graphcompat.data.more_transformations import (Counter, RandomDataset, bucket_by_sequence_length,  # noqa: F401
                                                   choose_from_datasets, group_by_window, sample_from_datasets)


def scan(initial_state, scan_func):
    """`ds.apply(scan(...))` == `ds.scan(initial_state, scan_func)` (TF's ScanDataset)."""
    return lambda ds: ds.scan(initial_state, scan_func)


def take_while(predicate):
    """`ds.apply(take_while(...))` == `ds.take_while(predicate)` (TF's TakeWhileDataset)."""
    return lambda ds: ds.take_while(predicate)



def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """`ds.apply(shuffle_and_repeat(...))` == `ds.shuffle(buffer_size, seed).repeat(count)`."""
    return lambda ds: ds.shuffle(buffer_size, seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False, num_parallel_calls=None):
    """`ds.apply(map_and_batch(...))` == `ds.map(map_func).batch(batch_size, drop_remainder)`."""
    return lambda ds: ds.map(map_func, num_parallel_calls).batch(batch_size, drop_remainder)


def unbatch():
    return lambda ds: ds.unbatch()


def ignore_errors():
    raise NotImplementedError("tf.data.experimental.ignore_errors is not supported by graphcompat.")


def cardinality(dataset: Dataset):
    """The static cardinality as a constant int64 tensor (INFINITE = -1, UNKNOWN = -2)."""
    from graphcompat.framework.constant_op import constant
    n = dataset._card()
    return constant(UNKNOWN_CARDINALITY if n is None else INFINITE_CARDINALITY if n == INF else int(n),
                    dtype="int64", name="Cardinality")


def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    raise NotImplementedError("tf.data.experimental.rejection_resample is not supported by graphcompat.")
