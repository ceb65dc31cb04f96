"""`tf.data`: input pipelines (Dataset, Iterator, readers) and `tf.data.experimental`.

How a pipeline runs (details: dataset_ops.py, lowering/rules/data.py):
- In-memory pipelines (from_tensor_slices / from_tensors / range with static sizes, then map of
  pure graph ops, shuffle, repeat, batch, take, skip, zip, concatenate, enumerate, cache, prefetch)
  iterated by a one-shot or initializable iterator are walked ON THE DEVICE: their arrays stay
  device-resident and `get_next()` is part of the jitted step; only an int64 position is threaded
  through it. End of sequence, a ragged last batch's size and a small shuffle buffer's order are
  decided on the host before dispatch (lowering/data/device.py's `device_plan` lists the shapes allowed).
- Everything else (generators, files, filter, flat_map, interleave, padded_batch, unbatch, window, shard,
  scan, take_while, group_by_window, group_by_reducer, bucket_by_sequence_length, choose/sample_from_datasets, string
  elements, `Iterator.from_structure`/`from_string_handle`) is walked on the host by a prefetching
  thread; its element is fed into the (still jitted) step.
`Dataset.with_options` records TF's `OptionsDataset` (its `serialized_options` bytes are TF's); no
`tf.data.Options` setting changes the elements graphcompat yields (`deterministic=False` stays
deterministic, which TF allows), so all are accepted (graphcompat/data/options.py).
Known differences from TF: shuffle orders differ from TF's (another PRNG; on the device shuffle is a
keyed pseudo-random permutation; `RandomDataset` and `sample_from_datasets` draw TF's Philox bits, so a
seed gives TF's sequence); functions' ops are recorded in the main graph (under `<kind>_fn/`)
rather than a function library; tensors captured by dataset functions are read when the iterator is initialized;
`cache(filename)` caches in memory.
"""
from graphcompat.data.dataset_ops import AUTOTUNE, Dataset  # noqa: F401
from graphcompat.data.iterator_ops import (Iterator, get_output_classes, get_output_shapes,  # noqa: F401
                                           get_output_types, make_initializable_iterator,
                                           make_one_shot_iterator)
from graphcompat.data import experimental  # noqa: F401

DatasetV1 = Dataset
from graphcompat.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset  # noqa: F401,E402
from graphcompat.data.dataset_ops import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY  # noqa: F401,E402
from graphcompat.data.options import Options, ThreadingOptions  # noqa: F401,E402


class NumpyIterator:
    """`tf.data.NumpyIterator`: Python iteration over a dataset, which TF allows only in eager mode (its
    constructor iterates the dataset, and graph mode refuses that with TF's RuntimeError)."""

    def __init__(self, dataset) -> None:
        self._iterator = iter(dataset)
