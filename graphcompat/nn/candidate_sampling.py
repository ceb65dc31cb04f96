"""`tf.nn` candidate samplers (TF's python/ops/candidate_sampling_ops.py)."""
from __future__ import annotations

from typing import Optional

from graphcompat.framework.constant_op import convert_to_tensor
from graphcompat.framework.registry import apply_op
from graphcompat.ops.random_ops import get_seed

def _sampler(op_type: str, true_classes, num_true: int, num_sampled: int, unique: bool, range_max: int,
             seed: Optional[int], name: Optional[str]):
    seed1, seed2 = get_seed(seed)
    true_classes = convert_to_tensor(true_classes)
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
    for attr, value in (("num_true", num_true), ("num_sampled", num_sampled)):
        if int(value) < 1:
            raise ValueError(f"Attr '{attr}' of 'AllCandidateSampler' Op passed {int(value)} less than minimum 1.")
    seed1, seed2 = get_seed(seed)
    return tuple(apply_op("AllCandidateSampler", [true_classes], {
        "num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique), "seed": seed1 or 0,
        "seed2": seed2 or 0}, name=name))
