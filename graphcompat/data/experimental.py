"""`tf.data.experimental`: the names TF1 programs commonly use."""
from __future__ import annotations

from graphcompat.data.dataset_ops import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset  # noqa: F401
from graphcompat.data.options import (AutoShardPolicy, AutotuneAlgorithm, AutotuneOptions,  # noqa: F401
                                      DistributeOptions, ExternalStatePolicy, OptimizationOptions, ServiceOptions,
                                      ThreadingOptions)
from graphcompat.data.more_transformations import (Counter, RandomDataset, Reducer,  # noqa: F401
                                                   bucket_by_sequence_length, choose_from_datasets, group_by_reducer,
                                                   group_by_window, sample_from_datasets)
from graphcompat.data.experimental_ops import (CsvDataset, Optional, assert_cardinality, cardinality,  # noqa: F401
                                               dense_to_sparse_batch, get_next_as_optional, get_single_element,
                                               ignore_errors, map_and_batch, parallel_interleave,
                                               shuffle_and_repeat, unique)


def scan(initial_state, scan_func):
    """`ds.apply(scan(...))` == `ds.scan(initial_state, scan_func)` (TF's ScanDataset)."""
    return lambda ds: ds.scan(initial_state, scan_func)


def take_while(predicate):
    """`ds.apply(take_while(...))` == `ds.take_while(predicate)` (TF's TakeWhileDataset)."""
    return lambda ds: ds.take_while(predicate)



def unbatch():
    return lambda ds: ds.unbatch()


def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    raise NotImplementedError("tf.data.experimental.rejection_resample is not supported by graphcompat.")
