"""tf.import_graph_def speed: a ~10k-node GraphDef written by TensorFlow, imported by graphcompat and by TF.

    python benchmarks/import_speed.py [--nodes 10000] [--rounds 5]

The GraphDef is an inference graph of the kinds of ops real models hold (MatMul, BiasAdd, Relu, Reshape,
ConcatV2, reductions, Const weights), built by real TensorFlow (tf.compat.v1) when it is installed and
by graphcompat otherwise. Each round imports it into a fresh graph; prints the median seconds of each
and the ratio graphcompat / TF (the target is <= 1). Shapes are re-inferred on import by both.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import graphcompat as gc  # noqa: E402


def build(tf, nodes: int):
    """Blocks of ~12 nodes each until the graph has about `nodes` nodes; returns its GraphDef bytes."""
    rng = np.random.RandomState(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 16], name="x")
        h = x
        while len(graph.get_operations()) < nodes:
            w = tf.constant(rng.randn(16, 16).astype(np.float32))
            b = tf.constant(rng.randn(16).astype(np.float32))
            y = tf.nn.relu(tf.nn.bias_add(tf.matmul(h, w), b))
            z = tf.reshape(tf.concat([y, y * 0.5], axis=1), [-1, 2, 16])
            h = tf.reduce_mean(z, axis=1) + tf.reduce_max(y, axis=1, keepdims=True)
        tf.identity(h, name="out")
    return graph.as_graph_def().SerializeToString(), len(graph.get_operations())


def time_import(tf, data: bytes, parse, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        graph_def = parse(data)
        graph = tf.Graph()
        with graph.as_default():
            start = time.perf_counter()
            tf.import_graph_def(graph_def, name="")
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as real_tf
        v1 = real_tf.compat.v1
        from tensorflow.core.framework import graph_pb2
    except ImportError:
        v1 = None
    data, n = build(v1 or gc, args.nodes)
    print(f"GraphDef: {n} nodes, {len(data) / 1e6:.1f} MB, written by {'TensorFlow' if v1 else 'graphcompat'}")
    ours = time_import(gc, data, gc.GraphDef.FromString, args.rounds)
    print(f"graphcompat import_graph_def: {ours:.3f} s ({ours / n * 1e6:.0f} us/node)")
    if v1 is not None:
        theirs = time_import(v1, data, graph_pb2.GraphDef.FromString, args.rounds)
        print(f"TensorFlow  import_graph_def: {theirs:.3f} s ({theirs / n * 1e6:.0f} us/node)")
        print(f"ratio graphcompat / TF: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
