"""TF's stacks: `StackV2`, `StackPushV2`, `StackPopV2`, `StackCloseV2`.

TF has no public builder for them (only `tf.raw_ops`); they matter because TF 1.x's gradient of a
`tf.while_loop` (control flow v1) keeps the forward loop's values on them: a `StackV2` outside the loop,
a `StackPushV2` per forward iteration, a `StackPopV2` per backward iteration. graphcompat defines them so
that such graphs import (graphcompat/framework/importer.py) and run (lowering/rules/stacks.py). As TF's
kernels, a stack lives for one run (TF's per-step container): each run of `StackV2` makes a new, empty one.

TF 1's first stack ops (`Stack`, `StackPush`, `StackPop`, `StackClose`, with a `Ref(string)` handle and
no max_size) are in graphcompat/ops/ref_handle_ops.py and run these kernels.
"""
from __future__ import annotations

from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import InferenceContext, defop, no_outputs


def _handle_shape(ctx: InferenceContext):
    # TF's shape function for StackV2 (TwoElementOutput) gives the resource handle TF 1's [2] shape
    return [_ts.TensorShape([2])]


def _pushed_shape(ctx: InferenceContext):
    return [ctx.shape(1)]


def _popped_shape(ctx: InferenceContext):
    return [_ts.unknown_shape()]  # what was pushed is only known when the graph runs


defop("StackV2", "max_size: int32 -> handle: resource", attrs={"elem_type": None, "stack_name": ""},
      shape=_handle_shape, stateful=True)
defop("StackPushV2", "handle: resource, elem: T -> output: T", attrs={"swap_memory": False},
      shape=_pushed_shape, stateful=True)
defop("StackPopV2", "handle: resource -> elem: elem_type", attrs={"elem_type": None}, shape=_popped_shape,
      stateful=True)
defop("StackCloseV2", "handle: resource ->", shape=no_outputs, stateful=True)
