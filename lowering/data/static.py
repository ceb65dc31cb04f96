"""Values of a pipeline's small constant subgraphs, computed when its node is built.

tf.data's `shuffle(seed=...)` records its seed2 as a SelectV2 over constants (TF's random_seed logic in
ops), which TF's build-time constant folding does not fold either: TF's kernel reads it when the op runs.
The device walk needs the seeds as static numbers, so the back end evaluates such stateless subgraphs
once, with its own interpreter, here.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from graphcompat.framework.registry import get_op_def
from lowering.data.pipeline import static_int


def computed_int(t) -> Optional[int]:
    """The value of a scalar that constant ops compute; None if it depends on anything else (a feed, a
    variable, a stateful op, a function's argument)."""
    value = static_int(t)
    if value is not None:
        return value
    from lowering.interpreter import RunContext, evaluate
    from lowering.plan import prune, step
    ops = prune([t], [], set())
    if any(get_op_def(op.type).stateful or op.type in ("Placeholder", "PlaceholderWithDefault", "_Arg")
           for op in ops):
        return None
    import jax
    try:
        with jax.enable_x64(True):  # int64 seeds stay int64 (a node may be built outside a run)
            return int(np.asarray(evaluate([step(op) for op in ops], {}, [t], RunContext({}, traced=False))[0]))
    except Exception:  # noqa: BLE001 (an input the interpreter cannot evaluate alone: a run-time value)
        return None
