"""TF's LogUniform, Uniform and FixedUnigram candidate samplers as JAX computations: the host's numbers
(lowering/philox_sampling.py `sample_batch`, TF's range_sampler.cc) inside compiled plans, with no host
callback except in cases too rare to matter for speed.

Why this is exact:

- Words. LogUniform and Uniform take two Philox words per attempt (RandDouble / Uniform64's rand64), in order
  from the run's (key, counter): attempt i reads words 2i and 2i + 1, i.e. Philox call i // 2. Attempts are
  generated in blocks of `_block_size` and the draw continues block after block (a lax.while_loop) until
  it has its samples, as the kernel reads on as long as it needs to.
- Uniform: Uniform64(range) is ExactUniformInt over 64-bit words: `r & (range - 1)` for a power of two,
  else words below (2^64 - 1) % range + 1 are rejected and `r % range` kept. Integer arithmetic, exact; a
  rejected attempt consumes its two words but is not a sample (nor a try).
- LogUniform: int64(exp(d * log(range + 1))) - 1 with d = Uint64ToDouble of the two words. d and the
  product are exact IEEE double operations; exp is where XLA and glibc may differ (measured: up to 2 ulp).
  The integer part can only differ where exp's value lies within those few ulps of an integer, so an
  attempt whose device exp lies within 2^-48 of its magnitude (16 to 32 ulp) of an integer is flagged.
- Expected counts: p(id) for LogUniform is float32(log((id + 2) / (id + 1)) / log_range), computed in
  double (XLA may divide by log_range as a multiplication by its reciprocal: another ulp); device and
  glibc differ by a few double ulps at most, which changes the float32 rounding only where the
  double lies within a few double ulps of a float32 rounding midpoint: those ids are flagged (8 double
  ulps of margin; no id of ranges 1,000, 50,000 or 10^6 is). The rest is float32 arithmetic and glibc's
  log1pf/expm1f, which lowering/glibc_float.py repeats operation for operation.
- FixedUnigram: RandFloat (one word: its low 23 bits / 2^23) then Uniform(range) (one 32-bit word, words
  below (2^32 - 1) % range + 1 rejected) into DistributionSampler's alias table: `idx if r < prob[idx]
  else alt[idx]`. Without a rejection, attempt i reads words 2i and 2i + 1; an attempt whose index word
  is rejected shifts every later attempt, so it is flagged (probability below range / 2^32 an attempt).
  p(id) is weight / total, one float32 division.
- Duplicates (unique=True): an attempt is a new sample when no earlier accepted attempt of its block nor
  any sample of earlier blocks has its value (sort-based first occurrences and a membership test); every
  accepted attempt up to the one that completes the batch counts as a try.

A draw with a flag is redone on the host by the caller (word2vec's sampler: an attempt's exp is flagged
with probability about 3e-11, a draw about 4e-9): the result is the host's in every case.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from lowering import glibc_float, philox, philox_sampling

KINDS = ("LogUniformCandidateSampler", "UniformCandidateSampler", "FixedUnigramCandidateSampler")

_MIDPOINT_MARGIN = 8           # double ulps around a float32 rounding midpoint that count as "near"
_INTEGER_MARGIN = 2.0 ** -48   # relative distance to an integer that counts as "near" for exp's floor


def _block_size(num_sampled: int, unique: bool) -> int:
    """Attempts per block: an even number (two words an attempt, four a Philox call). Unique draws need
    more attempts than samples (word2vec's 64 of 50,000 log-uniform: 66-92 attempts), so twice as many."""
    want = 2 * num_sampled if unique else num_sampled
    return max(8, -(-want // 8) * 8)


def _attempt_words(jnp, key, counter, block, size: int):
    """The (first, second) words of attempts block * size .. (block + 1) * size - 1, as uint64."""
    calls = size // 2
    offsets = block.astype(jnp.uint64) * jnp.uint64(calls) + jnp.arange(calls, dtype=jnp.uint64)
    w = jnp.stack(philox.philox(jnp, key, philox._counters(jnp, counter, offsets)), axis=-1).reshape(-1)
    return w[0::2].astype(jnp.uint64), w[1::2].astype(jnp.uint64)


def _log_uniform_attempts(jnp, w0, w1, range_max: int):
    """(values, accepted, flagged): LogUniformSampler::Sample of each attempt."""
    mantissa = ((w0 & jnp.uint64(0xFFFFF)) << jnp.uint64(32)) | w1
    d = mantissa.astype(jnp.float64) * (1.0 / (1 << 52))                # exact: a 52-bit integer / 2^52
    y = jnp.exp(d * np.float64(np.log1p(np.float64(range_max))))
    values = (y.astype(jnp.int64) - 1) % jnp.int64(range_max)
    flagged = jnp.abs(y - jnp.round(y)) <= y * _INTEGER_MARGIN
    return values, jnp.ones(values.shape, bool), flagged


def _uniform_attempts(jnp, w0, w1, range_max: int):
    """(values, accepted, flagged): Uniform64(range) of each attempt (ExactUniformInt, 64-bit words)."""
    r = w0 | (w1 << jnp.uint64(32))
    if range_max & (range_max - 1) == 0:
        return (r & jnp.uint64(range_max - 1)).astype(jnp.int64), jnp.ones(r.shape, bool), \
            jnp.zeros(r.shape, bool)
    rem = ((1 << 64) - 1) % range_max + 1
    return (r % jnp.uint64(range_max)).astype(jnp.int64), r >= jnp.uint64(rem), jnp.zeros(r.shape, bool)


def _fixed_unigram_attempts(jnp, w0, w1, range_max: int, table):
    """(values, accepted, flagged): FixedUnigramSampler::Sample of each attempt, flagged when its index
    word is rejected (ExactUniformInt would read another word)."""
    prob, alt = table
    r = (w0 & jnp.uint64(0x7FFFFF)).astype(jnp.float32) * np.float32(1.0 / (1 << 23))   # exact
    if range_max & (range_max - 1) == 0:
        idx, rejected = w1 & jnp.uint64(range_max - 1), jnp.zeros(w1.shape, bool)
    else:
        rem = ((1 << 32) - 1) % range_max + 1
        idx, rejected = w1 % jnp.uint64(range_max), w1 < jnp.uint64(rem)
    idx = idx.astype(jnp.int64)
    values = jnp.where(r < jnp.asarray(prob)[idx], idx, jnp.asarray(alt)[idx])
    return values, jnp.ones(values.shape, bool), rejected


def _first_occurrences(jnp, values, valid):
    """valid & (no earlier valid element has the same value), by a stable sort on (invalid, value)."""
    n = values.shape[0]
    order = jnp.lexsort((jnp.arange(n), values, ~valid))
    v = values[order]
    ok = valid[order]
    first_sorted = ok & jnp.concatenate([jnp.ones((1,), bool), v[1:] != v[:-1]])
    return jnp.zeros((n,), bool).at[order].set(first_sorted)


def _members(jnp, values, batch, count):
    """Whether each value is among batch[:count]."""
    filled = jnp.arange(batch.shape[0]) < count
    keyed = jnp.sort(jnp.where(filled, batch, jnp.iinfo(jnp.int64).max))
    where = jnp.clip(jnp.searchsorted(keyed, values), 0, batch.shape[0] - 1)
    return (keyed[where] == values) & (where < count)


def _log_uniform_probability(jnp, ids, range_max: int):
    """(p float32, flagged): LogUniformSampler::Probability, flagged near a float32 rounding midpoint."""
    ids = ids.astype(jnp.float64)
    q = jnp.log((ids + 2.0) / (ids + 1.0)) / np.float64(np.log1p(np.float64(range_max)))
    import jax
    bits = jax.lax.bitcast_convert_type(q, jnp.uint64)
    dropped = (bits & jnp.uint64((1 << 29) - 1)).astype(jnp.int64)   # what float32 rounding drops
    flagged = jnp.abs(dropped - (1 << 28)) <= _MIDPOINT_MARGIN
    return q.astype(jnp.float32), flagged


def draw(kind: str, range_max: int, num_sampled: int, unique: bool, key, counter, true_classes,
         weights: bytes = b"") -> Tuple[tuple, "jax.Array"]:
    """((sampled int64, true expected float32, sampled expected float32), flagged) for one run of the
    kernel from Philox (key, counter) (traced words allowed); `flagged` says the host must redo the draw.
    `weights`: FixedUnigram's float32 weights (after distortion), as bytes."""
    import jax
    import jax.numpy as jnp

    size = _block_size(num_sampled, unique)
    if kind == "FixedUnigramCandidateSampler":
        sampler = philox_sampling.FixedUnigramSampler(np.frombuffer(weights, np.float32))
        table = (np.asarray(sampler.prob, np.float32), np.asarray(sampler.alt, np.int64))

        def attempts(jnp, w0, w1, range_max):
            return _fixed_unigram_attempts(jnp, w0, w1, range_max, table)
    else:
        attempts = _log_uniform_attempts if kind == "LogUniformCandidateSampler" else _uniform_attempts

    def block_step(state):
        block, count, tries, batch, flagged = state
        w0, w1 = _attempt_words(jnp, key, counter, block, size)
        values, accepted, flag = attempts(jnp, w0, w1, range_max)
        if unique:
            new = _first_occurrences(jnp, values, accepted) & ~_members(jnp, values, batch, count)
        else:
            new = accepted
        need = num_sampled - count
        rank = jnp.cumsum(new.astype(jnp.int32))                  # 1-based rank of each new sample
        take = new & (rank <= need)
        slots = jnp.where(take, count + rank - 1, num_sampled)    # out of range: dropped
        batch = batch.at[slots].set(values, mode="drop")
        found = rank[-1]
        done = found >= need
        # tries: accepted attempts up to the one that completes the batch (all of the block otherwise)
        last = jnp.argmax(new & (rank == need))
        upto = jnp.where(done, jnp.arange(size) <= last, True)
        tries = tries + jnp.sum(accepted & upto).astype(jnp.int64)
        flagged = flagged | jnp.any(flag & upto)
        return block + 1, count + jnp.minimum(found, need), tries, batch, flagged

    state = (jnp.uint64(0), jnp.int32(0), jnp.int64(0), jnp.zeros((num_sampled,), jnp.int64), jnp.bool_(False))
    if num_sampled:
        state = jax.lax.while_loop(lambda s: s[1] < num_sampled, block_step, state)
    _, _, tries, sampled, flagged = state

    true_ids = jnp.clip(jnp.asarray(true_classes).astype(jnp.int64), 0, range_max - 1)
    # tries < 2^62: an exact zero that the compiler cannot prove zero (it comes out of the while loop)
    zero = (tries >> 62).astype(jnp.int32)
    if kind != "UniformCandidateSampler":
        ids = jnp.concatenate([true_ids.reshape(-1), sampled])
        if kind == "LogUniformCandidateSampler":
            p, p_flagged = _log_uniform_probability(jnp, ids, range_max)
            flagged = flagged | jnp.any(p_flagged)
        else:
            # weight / total, one float32 division. XLA divides by a broadcast scalar as a multiplication by
            # its reciprocal (two roundings), so the divisor is a vector the compiler cannot see is one
            # value: total's bits XOR (ids >> 62), zero for every id
            total_bits = jnp.full(ids.shape, np.float32(sampler.total).view(np.int32), jnp.int32)
            total = glibc_float._float(jnp, total_bits ^ (ids >> 62).astype(jnp.int32))
            p = glibc_float.Float32Ops(jnp, zero).div(jnp.asarray(sampler.weights)[ids], total)
        expected = expected_counts(jnp, p, num_sampled, tries, zero)
        n_true = true_ids.size
        return (sampled, expected[:n_true].reshape(true_ids.shape), expected[n_true:]), flagged
    # Uniform: one probability, float(1.0 / range), so one expected count (its float32 steps that do not
    # depend on tries are done here; XLA's simplifier would otherwise fold glibc's steps on a constant)
    p = np.float32(1.0 / range_max)
    expected = _expected_count_of(jnp, p, num_sampled, tries, zero)
    return (sampled, jnp.broadcast_to(expected, true_ids.shape), jnp.broadcast_to(expected, (num_sampled,))), \
        flagged


def expected_counts(jnp, p, batch_size: int, tries, zero):
    """ExpectedCountHelper in float32: p * batch_size when no draw was rejected, else
    -expm1f(float(tries) * log1pf(-p)) with glibc's functions (lowering/glibc_float.py; `zero`: its
    compiler-opaque zero)."""
    scaled = glibc_float.multiply(jnp, p, np.float32(batch_size), zero)
    log1p = glibc_float.log1pf(jnp, -p, zero)
    at_least_once = -glibc_float.expm1f(jnp, glibc_float.multiply(jnp, tries.astype(jnp.float32), log1p, zero),
                                         zero)
    return jnp.where(tries == batch_size, scaled, at_least_once)


def _expected_count_of(jnp, p: np.float32, batch_size: int, tries, zero):
    """expected_counts for one constant probability p (a scalar)."""
    scaled = np.float32(p * np.float32(batch_size))
    log1p = glibc_float.log1pf(np, np.array([-p], np.float32))[0]
    x = glibc_float.multiply(jnp, tries.astype(jnp.float32), log1p, zero)
    return jnp.where(tries == batch_size, scaled, -glibc_float.expm1f(jnp, x, zero))
