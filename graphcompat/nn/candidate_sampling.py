"""`tf.nn` candidate samplers (TF's python/ops/candidate_sampling_ops.py)."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework.registry import apply_op
from graphcompat.ops.random_ops import get_seed

def _sampler(op_type: str, true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
             seed: Optional[int], name: Optional[str]):
    seed1, seed2 = get_seed(seed)
    return tuple(apply_op(op_type, [true_classes], {
        "num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique),
        "range_max": int(range_max), "seed": seed1 or 0, "seed2": seed2 or 0}, name=name))


def log_uniform_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
                                  seed: Optional[int] = None, name: Optional[str] = None):
    """`tf.nn.log_uniform_candidate_sampler`: (sampled_candidates, true_expected_count,
    sampled_expected_count) from P(class) = log((class + 2) / (class + 1)) / log(range_max + 1)."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max,
                    seed, name)


def uniform_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
                              seed: Optional[int] = None, name: Optional[str] = None):
    """`tf.nn.uniform_candidate_sampler`: classes drawn uniformly from [0, range_max)."""
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max,
                    seed, name)


def learned_unigram_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool,
                                      range_max: int, seed: Optional[int] = None, name: Optional[str] = None):
    """`tf.nn.learned_unigram_candidate_sampler`: classes drawn in proportion to how often each was a true
    class in earlier runs of this op in this session (every class starts at a count of 1; the counts are
    updated after each run's draw), as TF's UnigramSampler (LearnedUnigramCandidateSampler)."""
    return _sampler("LearnedUnigramCandidateSampler", true_classes, num_true, num_sampled, unique, range_max,
                    seed, name)


def fixed_unigram_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
                                    vocab_file: str = "", distortion: float = 1.0, num_reserved_ids: int = 0,
                                    num_shards: int = 1, shard: int = 0, unigrams=(), seed: Optional[int] = None,
                                    name: Optional[str] = None):
    """`tf.nn.fixed_unigram_candidate_sampler`: classes drawn from fixed unigram weights (`unigrams`, or the
    last comma-separated field of each line of `vocab_file`) raised to `distortion`; the first
    `num_reserved_ids` ids weigh 0; with `num_shards` > 1 only the ids of `shard` (id % num_shards) are
    kept and the sampler's ids index them (FixedUnigramCandidateSampler)."""
    seed1, seed2 = get_seed(seed)
    return tuple(apply_op("FixedUnigramCandidateSampler", [true_classes], {
        "num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique),
        "range_max": int(range_max), "vocab_file": str(vocab_file), "distortion": float(distortion),
        "num_reserved_ids": int(num_reserved_ids), "num_shards": int(num_shards), "shard": int(shard),
        "unigrams": [float(u) for u in unigrams], "seed": seed1 or 0, "seed2": seed2 or 0}, name=name))


def compute_accidental_hits(true_classes, sampled_candidates, num_true: int, seed: Optional[int] = None,
                            name: Optional[str] = None):
    """`tf.nn.compute_accidental_hits`: (indices, ids, weights) of the sampled candidates that equal a true
    class of a row: row index, position among the samples, -FLT_MAX (ComputeAccidentalHits)."""
    seed1, seed2 = get_seed(seed)
    return tuple(apply_op("ComputeAccidentalHits", [true_classes, sampled_candidates], {
        "num_true": int(num_true), "seed": seed1 or 0, "seed2": seed2 or 0}, name=name))


def all_candidate_sampler(true_classes, num_true: int, num_sampled: int, unique: bool, seed: Optional[int] = None,
                          name: Optional[str] = None):
    """`tf.nn.all_candidate_sampler`: every class of range num_sampled, each with expected count 1
    (AllCandidateSampler; for testing sampled losses against their full counterparts)."""
    seed1, seed2 = get_seed(seed)
    return tuple(apply_op("AllCandidateSampler", [true_classes], {
        "num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique), "seed": seed1 or 0,
        "seed2": seed2 or 0}, name=name))
