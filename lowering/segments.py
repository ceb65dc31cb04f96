"""A plan whose ops name several devices, compiled as per-device segments with explicit transfers.

The plan's steps (creation order) are cut where the device changes: a multi-tower program becomes a few
segments (the shared inputs on CPU:0, tower 0 forward and backward on GPU:0, tower 1 on GPU:1, the
averaging and the update on CPU:0). Each segment is one `jax.jit` function run on its device:

    (state it reads, tensors it takes from earlier segments or feeds) -> (tensors later segments or the
    fetches take, state it writes, its checks)

Arrays cross segments with `jax.device_put` to the next segment's device (TF's Send/Recv); variable
references (`Ref`) are Python values and pass outside the jitted functions. A run is atomic as every
run: writes are staged and committed when every segment's checks pass; otherwise nothing is committed and
the caller re-runs the plan op by op, which raises TF's error with its run-time values.

Which state a segment reads and writes is found once by an abstract trace (`jax.eval_shape`), as for a
compiled plan. Anything this cannot express (a host value crossing segments, a rule that needs concrete
values) raises `Unsegmentable`, and the plan keeps running op by op, each op on its device.
"""
from __future__ import annotations

from typing import Sequence

import jax
import numpy as np

from lowering import placement as _placement
from lowering.interpreter import Ref, RunContext, evaluate


class Unsegmentable(Exception):
    """This plan cannot run as compiled segments (it runs op by op, placed, instead)."""


def _is_array(value) -> bool:
    return isinstance(value, (jax.Array, np.ndarray, np.generic)) and getattr(value, "dtype", None) != object


class _Segment:
    """Consecutive steps on one device, and what flows in and out of them."""

    def __init__(self, device, steps: list):
        self.device = device
        self.steps = steps
        self.inputs: list = []     # tensors read from feeds or earlier segments
        self.outputs: list = []    # tensors later segments or the fetches read
        self.cache: dict = {}      # static signature -> _Traced


class _Traced:
    """One jitted segment for one static signature (which inputs are references, which state exists)."""

    def __init__(self, segment: _Segment, static: dict, array_positions: list, reads: list, writes: list,
                 inits: dict, host_state: dict):
        self.reads, self.writes, self.inits = reads, writes, inits
        self.array_positions = array_positions
        out_static: dict = {}
        self.out_static = out_static
        inputs, outputs, steps = segment.inputs, segment.outputs, segment.steps

        def fn(state_values, arrays):
            state_in = dict(host_state)
            state_in.update(zip(reads, state_values))
            ctx = RunContext(state_in, traced=True)
            env = dict(static)
            env.update((inputs[i], a) for i, a in zip(array_positions, arrays))
            values = evaluate(steps, env, outputs, ctx, deref=False)
            out_arrays = []
            for i, value in enumerate(values):
                if isinstance(value, Ref):   # a variable reference: a Python value, passed outside
                    out_static[i] = value
                else:
                    out_arrays.append(value)
            ok = ctx.all_ok()
            return out_arrays, [ctx.state[k] for k in writes], ([] if ok is None else [ok])
        from lowering.executor import plan_jit  # executor imports this module
        self.jitted = plan_jit(fn)


class Segmented:
    """A multi-device plan as per-device jitted segments (see the module docstring)."""

    def __init__(self, plan, placement: dict):
        self.plan = plan
        segments: list = []
        for step in plan.steps:
            device = placement[step[0]]
            if segments and segments[-1].device is device:
                segments[-1].steps.append(step)
            else:
                segments.append(_Segment(device, [step]))
        produced_by = {}
        for index, segment in enumerate(segments):
            for op, _, _ in segment.steps:
                for t in op._outputs:
                    produced_by[t] = index
        wanted = {t: len(segments) for t in plan.fetch_tensors}   # tensor -> last segment reading it
        for index, segment in enumerate(segments):
            inside = set()
            for op, _, _ in segment.steps:
                for t in op._inputs:
                    if t not in inside and t not in segment.inputs:
                        segment.inputs.append(t)
                    if produced_by.get(t, -1) < index:
                        wanted[t] = max(wanted.get(t, index), index)
                inside.update(op._outputs)
            segment.inputs = [t for t in segment.inputs if t not in inside]
        for index, segment in enumerate(segments):
            for op, _, _ in segment.steps:
                for t in op._outputs:
                    if wanted.get(t, -1) > index or t in plan.fetch_tensors:
                        if t not in segment.outputs:
                            segment.outputs.append(t)
        self.segments = segments

    def run(self, store: dict, feeds: dict):
        """(fetched values, staged writes {key: value}, ok flags): nothing is committed here."""
        env = dict(feeds)
        staged: dict = {}
        oks: list = []
        for segment in self.segments:
            device = segment.device
            values = [env[t] for t in segment.inputs]
            static = {}
            positions = []
            for i, (t, v) in enumerate(zip(segment.inputs, values)):
                if isinstance(v, Ref):
                    static[t] = v
                elif _is_array(v):
                    positions.append(i)
                else:
                    raise Unsegmentable(f"{t.name} carries a host value between devices")
            signature = tuple((t, type(v), v.key) for t, v in static.items())
            traced = segment.cache.get(signature)
            if traced is None:
                view = dict(store)   # the whole state, once per signature: the abstract trace's inputs
                view.update(staged)
                traced = segment.cache[signature] = self._trace(segment, static, positions, values, view)
            for key, init in traced.inits.items():
                if key not in staged and key not in store:
                    staged[key] = init()
            state_values = [jax.tree_util.tree_map(lambda a: _placement.move(a, device),
                                                   staged[k] if k in staged else store[k])
                            for k in traced.reads]
            arrays = [_placement.move(values[i], device) for i in positions]
            with jax.default_device(device):
                out_arrays, written, ok = traced.jitted(state_values, arrays)
            staged.update(zip(traced.writes, written))
            oks.extend(ok)
            it = iter(out_arrays)
            for i, t in enumerate(segment.outputs):
                env[t] = traced.out_static[i] if i in traced.out_static else next(it)
        fetched = []
        for t in self.plan.fetch_tensors:
            value = env[t]
            if isinstance(value, Ref):
                value = staged[value.key] if value.key in staged else store[value.key]
            fetched.append(value)
        return fetched, staged, oks

    def _trace(self, segment: _Segment, static: dict, positions: list, values: Sequence, view: dict) -> _Traced:
        """The segment's state reads, writes and hidden-state inits, from one abstract trace."""
        keys = [k for k, v in view.items() if _array_tree(v)]
        host_state = {k: v for k, v in view.items() if not _array_tree(v)}
        found: dict = {}

        def probe(state_values, arrays):
            state_in = dict(host_state)
            state_in.update(zip(keys, state_values))
            ctx = RunContext(state_in, traced=True)
            env = dict(static)
            env.update((segment.inputs[i], a) for i, a in zip(positions, arrays))
            evaluate(segment.steps, env, segment.outputs, ctx, deref=False)
            found.update(reads=list(dict.fromkeys(ctx.reads)), writes=list(ctx.writes), inits=dict(ctx.inits))
        with jax.default_device(segment.device):
            jax.eval_shape(probe, [view[k] for k in keys], [values[i] for i in positions])
        if any(k in host_state for k in found["reads"]):
            # host objects (an iterator walking a Python pipeline) may be replaced between runs
            raise Unsegmentable("the segment reads host state")
        reads = [k for k in found["reads"] if k in view or k in found["inits"]]
        return _Traced(segment, static, positions, reads, found["writes"], found["inits"], host_state)


def _array_tree(value) -> bool:
    leaves = jax.tree_util.tree_leaves(value)
    return bool(leaves) and all(_is_array(leaf) for leaf in leaves)
