"""Writes lowering/philox_libm.npz: where glibc's logf/sinf/cosf round differently from the correctly rounded
float32 value, over every input TF's Box-Muller can give them.

TF's BoxMullerFloat (random_distributions.h) calls glibc's logf on u1 = max(m * 2^-23, 1e-7f) and sincosf
on v1 = float(2 * M_PI * m * 2^-23), m = a 23-bit mantissa of a Philox word: 2^23 inputs each. glibc (2.28
and later: the ARM optimized-routines implementations) is within 1 ulp but not always correctly rounded, so
lowering/philox.py computes each step correctly rounded (float64, then float32) and applies this table's
corrections to land on glibc's value. Per function it stores the sorted mantissas m where glibc differs
(as gaps) and the difference in float32 bit patterns (+1 or -1).

Run on a machine with the glibc TF is used with (the table records that glibc's rounding):
    python tools/make_philox_libm_table.py
It also checks that jax.numpy's float64 log/sin/cos round to the same float32 values as numpy's on every
input, which lowering/philox.py relies on for identical bits in op-by-op and compiled runs.
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lowering", "philox_libm.npz")
N = 1 << 23


def inputs() -> dict:
    m = np.arange(N, dtype=np.float64) * 2.0 ** -23
    u1 = m.astype(np.float32)
    u1[0] = np.float32(1.0e-7)           # TF's epsilon: u1 < 1e-7f happens only for m = 0
    v1 = ((2.0 * np.pi) * m).astype(np.float32)
    return {"logf": (u1, np.log), "sinf": (v1, np.sin), "cosf": (v1, np.cos)}


def glibc(name: str, x: np.ndarray) -> np.ndarray:
    fn = getattr(ctypes.CDLL("libm.so.6"), name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return np.fromiter((fn(v) for v in x.tolist()), np.float32, count=x.size)


def jax_rounded(ref, x: np.ndarray) -> np.ndarray:
    import jax
    import jax.numpy as jnp
    with jax.enable_x64(True):
        fn = jax.jit(lambda a: getattr(jnp, ref.__name__)(a.astype(jnp.float64)).astype(jnp.float32))
        return np.asarray(fn(x))


def main() -> int:
    tables = {"glibc": np.asarray(platform.libc_ver()[1])}
    for name, (x, ref) in inputs().items():
        rounded = ref(x.astype(np.float64)).astype(np.float32)
        agree = np.array_equal(rounded.view(np.int32), jax_rounded(ref, x).view(np.int32))
        if not agree:
            print(f"{name}: jax.numpy and numpy round differently; the two tiers would not match", file=sys.stderr)
            return 1
        got = glibc(name, x)
        delta = got.view(np.int32).astype(np.int64) - rounded.view(np.int32)
        where = np.nonzero(delta)[0]
        assert np.all(np.abs(delta[where]) == 1), name
        tables[f"{name}_gaps"] = np.diff(where, prepend=0).astype(np.uint32)
        tables[f"{name}_up"] = np.packbits(delta[where] > 0)
        print(f"{name}: {where.size} of {N} inputs ({where.size / N:.3%}) rounded differently by glibc")
    np.savez_compressed(OUT, **tables)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
