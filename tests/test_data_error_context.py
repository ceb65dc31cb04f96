"""TF's context on an error of a dataset's function, against real TF: "Error in user-defined function passed to
<dataset>:N transformation with iterator: <prefix>: ..." (lowering/data/context.py), N masked (a process-wide
counter: tests/test_data_error_names.py compares it in fresh processes), the prefix naming the iterators of the
pipeline TF's default rewrites made. The FAILING table of tests/test_data_oracle.py compares these texts too."""
import numpy as np
import pytest

import graphcompat
from tests import oracle
from tests.test_data_oracle import _WORDS, _outcomes, _to_number

pytestmark = pytest.mark.oracle


def _div(tf, x):
    """12 // (x - 3): an integer division by zero at 3 (a stateless function: TF runs its map as ParallelMapV2)."""
    return 12 // (x - tf.constant(3, x.dtype))


def _range_div(tf, n=5):
    return tf.data.Dataset.range(n).map(lambda x: _div(tf, x))


# TF's context on a function's error: "Error in user-defined function passed to <dataset>:N transformation
# with iterator: <prefix>: ..." (lowering/data/context.py), the prefix naming the iterators of the pipeline TF's
# default rewrites made; int pipelines walk on the device, string ones on the host
CONTEXT = {
    # filter: its predicate's error (under a batch too: map_and_batch_fusion takes maps only)
    "filter": lambda tf: tf.data.Dataset.range(5).filter(lambda x: tf.equal(_div(tf, x), 0)),
    "filter_batch": lambda tf: tf.data.Dataset.range(5).filter(lambda x: _div(tf, x) < 0).batch(2),
    # flat_map: the function's own error, and an inner map's, indexed by its input element
    "flat_map_function": lambda tf: tf.data.Dataset.range(5).flat_map(
        lambda x: tf.data.Dataset.from_tensors(_div(tf, x))),
    "flat_map_inner": lambda tf: tf.data.Dataset.range(3).flat_map(
        lambda i: tf.data.Dataset.range(2).map(lambda x: 12 // (x - i + 1))),
    "flat_map_inner_flat_map": lambda tf: tf.data.Dataset.range(2).flat_map(
        lambda i: _range_div(tf).flat_map(lambda x: tf.data.Dataset.from_tensors(x))),
    # interleave: an inner iterator is indexed by its cycle slot; a parallel one's by its input element
    "interleave_function": lambda tf: tf.data.Dataset.range(5).interleave(
        lambda x: tf.data.Dataset.from_tensors(_div(tf, x)), cycle_length=2),
    "interleave_inner": lambda tf: tf.data.Dataset.range(5).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).map(lambda v: _div(tf, v)), cycle_length=2),
    "interleave_inner_slots": lambda tf: tf.data.Dataset.range(4).interleave(
        lambda i: tf.data.Dataset.range(3).map(lambda x: 12 // (x + i - 4)), cycle_length=3, block_length=2),
    "interleave_parallel_inner": lambda tf: tf.data.Dataset.range(5).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).map(lambda v: _div(tf, v)), cycle_length=2, num_parallel_calls=2),
    "interleave_legacy_inner": lambda tf: tf.data.Dataset.range(5).apply(tf.data.experimental.parallel_interleave(
        lambda x: tf.data.Dataset.from_tensors(x).map(lambda v: _div(tf, v)), cycle_length=2)),
    # map_and_batch: its function's error has no context, a map it reads is named under it; TF fuses a map
    # and the batch after it into one (a stateful map, a parallel one, one in a function too)
    "map_and_batch": lambda tf: tf.data.Dataset.range(5).apply(
        tf.data.experimental.map_and_batch(lambda x: _div(tf, x), 2)),
    "map_and_batch_input": lambda tf: _range_div(tf).apply(tf.data.experimental.map_and_batch(lambda x: x + 1, 2)),
    "map_map_batch": lambda tf: _range_div(tf).map(lambda x: x + 1).batch(2),
    "map_batch_stateful": lambda tf: tf.data.Dataset.range(5).map(
        lambda x: _div(tf, x) + tf.random.uniform([], 0, 1, tf.int64)).batch(2),
    "map_batch_in_flat_map": lambda tf: tf.data.Dataset.range(1).flat_map(lambda i: _range_div(tf).batch(2)),
    # map_parallelization (a map with a stateful op stays a Map: check_numerics, random) and inject_prefetch
    "map": lambda tf: _range_div(tf),
    "map_strings": lambda tf: _to_number(tf, _WORDS),
    "map_check_numerics": lambda tf: tf.data.Dataset.from_tensor_slices(np.float32([1, np.nan, 2])).map(
        lambda x: tf.check_numerics(x, "nan in data")),
    "map_stateful": lambda tf: tf.data.Dataset.range(5).map(
        lambda x: _div(tf, x) + tf.random.uniform([], 0, 1, tf.int64)),
    "map_parallel": lambda tf: tf.data.Dataset.range(5).map(lambda x: _div(tf, x), num_parallel_calls=2),
    "map_map": lambda tf: _range_div(tf).map(lambda x: x + 1),
    "map_prefetch": lambda tf: _range_div(tf).prefetch(1),
    "map_options": lambda tf: _range_div(tf).with_options(tf.data.Options()),
    # the iterators between: repetitions, inputs, and the datasets TF's rewrites remove or fuse
    "map_repeat": lambda tf: _range_div(tf).repeat(2),
    "map_repeat_batch": lambda tf: _to_number(tf, ["1", "x", "2"]).repeat(2).batch(2),
    "map_repeat_strings": lambda tf: _to_number(tf, ["1", "x"]).repeat(3),
    "repeat_map": lambda tf: tf.data.Dataset.range(5).repeat(2).map(lambda x: _div(tf, x)),
    "map_take_skip": lambda tf: _to_number(tf, ["1", "2", "x", "3", "4"]).skip(1).take(3),
    "map_noops": lambda tf: _range_div(tf).take(-1).skip(0).repeat(1).shard(1, 0),
    "map_shuffle_repeat": lambda tf: _range_div(tf).shuffle(1).repeat(2),
    "map_cache": lambda tf: _range_div(tf).cache(),
    "map_zip": lambda tf: tf.data.Dataset.zip((tf.data.Dataset.range(4), _range_div(tf))),
    "map_enumerate": lambda tf: _range_div(tf).enumerate(),
    "map_concatenate": lambda tf: tf.data.Dataset.range(2).concatenate(_range_div(tf)),
    "map_padded_batch": lambda tf: _range_div(tf).padded_batch(2, []),
    "filter_parallel_batch": lambda tf: tf.data.Dataset.range(5).filter(lambda x: _div(tf, x) < 0).batch(
        2, num_parallel_calls=2),
    # unbatch's normalizing map returns its arguments: noop_elimination removes it
    "filter_batch_unbatch": lambda tf: tf.data.Dataset.range(5).filter(lambda x: _div(tf, x) < 0).batch(2).unbatch(),
    "map_unique": lambda tf: _range_div(tf).apply(tf.data.experimental.unique()),
    "map_window": lambda tf: _range_div(tf).window(2).flat_map(lambda w: w.batch(2)),
    "choose_from_datasets": lambda tf: tf.data.experimental.choose_from_datasets(
        [tf.data.Dataset.range(5), _range_div(tf)], tf.data.Dataset.from_tensor_slices(np.int64([0, 1, 1, 1, 1, 1]))),
    "map_shuffle_seeded_repeat": lambda tf: _range_div(tf).shuffle(2, seed=1).repeat(2),
    # datasets of a function over a window, a group, a nested flat_map's element
    "window_map": lambda tf: tf.data.Dataset.range(6).window(2).flat_map(lambda w: w.map(lambda x: _div(tf, x))),
    "group_by_window_map": lambda tf: tf.data.Dataset.range(6).apply(tf.data.experimental.group_by_window(
        lambda x: x % 2, lambda k, d: d.map(lambda x: _div(tf, x)).batch(2), 4)),
    "flat_map_flat_map": lambda tf: tf.data.Dataset.range(2).flat_map(lambda i: tf.data.Dataset.range(2).flat_map(
        lambda j: tf.data.Dataset.from_tensors(i * 2 + j + 2).map(lambda x: _div(tf, x)))),
    # the functions that get no context
    "scan": lambda tf: tf.data.Dataset.range(5).apply(tf.data.experimental.scan(
        np.int64(0), lambda s, x: (s + _div(tf, x), s))),
    "take_while": lambda tf: tf.data.Dataset.range(5).take_while(lambda x: _div(tf, x) < 100),
    "group_by_window_key": lambda tf: tf.data.Dataset.range(5).apply(tf.data.experimental.group_by_window(
        lambda x: _div(tf, x) % 2, lambda k, d: d.batch(2), 2)),
}


@pytest.mark.parametrize("name", list(CONTEXT))
def test_function_errors_carry_tfs_context(name):
    want = _outcomes(oracle.tf1(), CONTEXT[name], runs=9)
    assert any(w[0] == "InvalidArgumentError" for w in want)
    assert _outcomes(graphcompat, CONTEXT[name], runs=9) == want
