"""One tiny compilation before the first run: JAX initialises MLIR and the XLA client on its first compile
(~0.1 s), and a notebook's first `Session.run` should not be the one paying for it. It runs when the first
Session is created, not at import, so that `graphcompat.config.distributed()` (jax.distributed must
connect before JAX's backend starts) can still be called right after `import graphcompat`.
(Synchronous on purpose: a background thread still compiling at interpreter exit aborts the process.)"""
import jax
import numpy as np

_done: list = []


def warm() -> None:
    if _done:
        return
    _done.append(True)
    try:
        with jax.enable_x64(True):
            jax.jit(lambda x: x * 2 + 1)(np.float32(1.0)).block_until_ready()
    except Exception:  # warming up is an optimisation only
        pass
