"""One tiny lowering before the first run: JAX initialises MLIR and the XLA client on its first lowering
(~35 ms), and a notebook's first `Session.run` should not be the one paying for it. Lowered, not compiled:
an XLA compile of the tiny function would cost ~30 ms more (its own codegen, a compile-cache write) to
save ~10 ms of the first real compile's one-time setup. It runs when the first Session is created, not at
import, so that `graphcompat.config.distributed()` (jax.distributed must connect before JAX's backend
starts) can still be called right after `import graphcompat`. (Synchronous on purpose: a background
thread still working at interpreter exit can abort the process.)"""
import jax
import numpy as np

_done: list = []


def warm() -> None:
    if _done:
        return
    _done.append(True)
    try:
        with jax.enable_x64(True):
            jax.jit(lambda x: x * 2 + 1).lower(np.float32(1.0))
    except Exception:  # warming up is an optimisation only
        pass
