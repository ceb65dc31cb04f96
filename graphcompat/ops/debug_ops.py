"""Op types TF 1 graphs carry for debugging and device copies, which graphcompat runs as what they compute:
RefIdentity / RefSelect (a variable ref passed on, or one of N picked by a run-time index), Copy /
CopyHost (tfdbg's copies of a watched tensor), DebugIdentity / DebugIdentityV2 / DebugNanCount /
DebugGradientIdentity (tfdbg's watch ops), and Abort.

A watch op with `debug_urls` (tfdbg dumping to files or gRPC) or a Copy with `debug_ops_spec` raises
NotImplementedError when it runs: graphcompat has no tfdbg dump writer. Lowerings: lowering/rules/debug.py.
"""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, no_outputs, unchanged_shape


def _ref_select_shape(ctx: InferenceContext):
    """TF's RefSelect shape function: the index is a scalar, every input has the first one's shape."""
    index = ctx.shape(0)
    if index.ndims not in (None, 0):
        raise ctx.error(f"Shape must be rank 0 but is rank {index.ndims}")
    first = ctx.shape(1)
    for i in range(2, len(ctx.inputs)):
        if not ctx.shape(i).is_compatible_with(first) or ctx.shape(i).ndims != first.ndims:
            return [_ts.unknown_shape()]
    return [first]


defop("RefIdentity", "input: Ref(T) -> output: Ref(T)", shape=unchanged_shape)
defop("RefSelect", "index: int32, inputs: N * Ref(T) -> output: Ref(T)", shape=_ref_select_shape)
for _op in ("Copy", "CopyHost"):
    defop(_op, "input: T -> output: T", attrs={"tensor_name": "", "debug_ops_spec": []}, shape=unchanged_shape)
defop("DebugIdentity", "input: T -> output: T",
      attrs={"device_name": "", "tensor_name": "", "debug_urls": [], "gated_grpc": False}, shape=unchanged_shape)
defop("DebugIdentityV2", "input: T -> output: T",
      attrs={"tfdbg_context_id": "", "op_name": "", "output_slot": -1, "tensor_debug_mode": -1, "debug_urls": [],
             "circular_buffer_size": 1000, "tfdbg_run_id": ""}, shape=unchanged_shape, stateful=True)
defop("DebugNanCount", "input: T -> output: int64",
      attrs={"device_name": "", "tensor_name": "", "debug_urls": [], "gated_grpc": False},
      shape=lambda ctx: [_ts.TensorShape([])])
defop("DebugGradientIdentity", "input: T -> output: T", shape=unchanged_shape)
defop("Abort", "->", attrs={"error_msg": "", "exit_without_error": False}, shape=no_outputs, stateful=True)

del _dt
