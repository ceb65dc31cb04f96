"""A Plan: what one fetch/feed signature needs, computed once from the graph. Pure data; it never runs.

    prune → order (creation order is a topological order) → split into stages:
      input steps  host inputs (a generator pipeline's next element) that run before the device part
      steps        the ops that run as one function (jitted, or op by op by the interpreter)
      host tail    ops that need host values after the device part (summaries, py_func): a sub-plan
    + facts the executor decides with: does it need the host, does it look like a loop body, its size.

How a Plan runs (op by op or compiled, which shapes, when to compile) is the executor's business
(lowering/executor.py).
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence


from graphcompat.framework import dtypes as _dtypes
from graphcompat.framework import errors
from graphcompat.framework import tensor_shape as _ts
from graphcompat.framework.registry import get_op_def
from lowering import grappler as _grappler
from lowering import padding as _pad
from lowering import placement as _placement
from lowering.registry import get_rule, require_kernels, require_rules, runs_before_the_step, runs_on_host

# Plans with open feed dimensions compile on their first run (a bucketed executable serves the next shapes
# too) unless they are at least this large: XLA compiles about 0.25 ms per op on a CPU while an op run
# op by op costs about 0.05 ms, so a big graph's first run (a frozen model, a long unrolled chain) is
# several times cheaper op by op; it compiles on its second run.
EAGER_FIRST_RUN_OPS = 256
# op types that compute nothing: a plan of only these runs op by op (Plan.computes_nothing)
_NOTHING_TO_COMPUTE = frozenset({"Const", "NoOp", "IteratorV2", "Iterator"})

# Ops that mark a plan as a loop body (a training step, an input pipeline step): such plans are run
# many times, so they compile on their first run instead of paying a compile on their second.

# Constants at least this large are passed to the compiled function as device-resident arguments
# instead of being baked into the executable (faster compiles, no duplicate copy).
_HOIST_CONST_ELEMENTS = 1024


def normalize_attrs(attrs: dict) -> dict:
    """TF attr values → what rules take: numpy dtypes for DTypes, tuples for TensorShapes."""
    out = {}
    for key, value in attrs.items():
        if key.startswith("_"):
            continue
        out[key] = _normalize(value)
    return out


def _normalize(value):
    if isinstance(value, _dtypes.DType):
        return _dtypes.storage_numpy_dtype(value)  # rules see a quantized type as its integer storage
    if isinstance(value, _ts.TensorShape):
        return value.as_tuple_or_none()
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def prune(fetch_tensors: Sequence, target_ops: Sequence, fed: set) -> list:
    """The ops the fetches need, in creation order; fed tensors cut the graph.

    A control dependency on a fed Placeholder is satisfied by the feed, as in TF (its FeedInputs moves a
    fed Placeholder's outgoing control edges to the feed): `with tf.control_dependencies([x])` where `x`
    is a placeholder (tf.metrics.mean(x) does this) must not ask for `x` again."""
    needed: set = set()
    fed_placeholders = {t.op for t in fed if t.op.type in ("Placeholder", "PlaceholderV2")}
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t not in fed:
                stack.append(t.op)
        if fed_placeholders:
            stack.extend(c for c in op._control_inputs if c not in fed_placeholders)
        else:
            stack.extend(op._control_inputs)
    return sorted(needed, key=lambda op: op._id)


def step(op) -> tuple:
    """One interpreter step: (op, rule, normalized attrs)."""
    return op, get_rule(op.type), normalize_attrs(op.attrs)


def _placeholder_error(op) -> errors.InvalidArgumentError:
    dtype = _dtypes.cpp_name(op.outputs[0].dtype)
    shape = op.attrs.get("shape")
    msg = f"You must feed a value for placeholder tensor '{op.name}' with dtype {dtype}"
    if shape is not None and shape.ndims:
        dims = ",".join("?" if d is None else str(d) for d in shape.as_list())
        msg += f" and shape [{dims}]"
    return errors.InvalidArgumentError(None, op, msg)


class HostTail(NamedTuple):
    """A plan whose host ops form a tail: `device` runs first (it fetches the device-side fetches and
    the `bridges` host ops read), then `steps` run op by op on its results."""
    device: "Plan"
    feed_index: list   # positions of the device plan's feeds among the outer plan's feeds
    steps: list
    ops: frozenset     # the ops of `steps`


_NOT_ANALYZED = object()


class Plan:
    """Everything one (fetches, feeds) signature needs, computed once. Read-only after construction (but for
    its padding analysis, computed when first asked for)."""

    def __init__(self, fetch_tensors: Sequence, target_ops: Sequence, feed_tensors: Sequence,
                 device: Optional[str] = None, soft_placement: bool = True, _row_ids: bool = True):
        self.fetch_tensors = list(fetch_tensors)
        self.target_ops = list(target_ops)
        self.feed_tensors = list(feed_tensors)
        self._padding = _NOT_ANALYZED
        fed = set(self.feed_tensors)
        ops = prune(self.fetch_tensors, target_ops, fed)
        require_rules(ops)  # one error naming every op type the graph needs and graphcompat lacks
        require_kernels(ops)  # TF's "No OpKernel was registered" for types its CPU kernels leave out
        # Host inputs (e.g. a generator pipeline's next element) run on the host before the jitted
        # part; their outputs become extra feeds of it, so the rest of the step still compiles.
        input_ops, ops = _host_inputs(ops, self.fetch_tensors, target_ops, fed)
        # tf.where of a 1-D mask (tf.boolean_mask's; of fed labels, a dataset's, the model's losses), compiled
        # with its rows padded to the mask's length (padding.py `_row_ids_in_step`): a host op otherwise. Kept
        # only where the padding analysis pads the plan (checked below).
        self.row_ids = frozenset(op for op in ops if _row_ids and op.type == "Where"
                                 and op._inputs[0].shape.ndims == 1)
        self.input_tensors = [t for op in input_ops for t in op._outputs]
        self.input_steps = [step(op) for op in (prune(self.input_tensors, input_ops, fed) if input_ops else ())]
        self.pre_runs = [(get_rule(op.type).pre_run, op)
                         for op in sorted(set(ops) | {s[0] for s in self.input_steps}, key=lambda o: o._id)
                         if get_rule(op.type).pre_run is not None]
        self.steps: list = []
        self.hoisted: dict = {}
        host = False
        for op in ops:
            if op.type in ("Placeholder", "PlaceholderV2"):
                raise _placeholder_error(op)
            rule = get_rule(op.type)
            host = host or _runs_on_host(op, rule, self.fetch_tensors, self.row_ids)
            if op.type == "Const" and op.attrs["value"].size >= _HOIST_CONST_ELEMENTS \
                    and op.attrs["value"].dtype != object:
                self.hoisted[op._outputs[0]] = op.attrs["value"]
                continue
            self.steps.append((op, rule, normalize_attrs(op.attrs)))
        # TF's default session runs the graph grappler optimized: divisions by constants multiply by the
        # reciprocal (lowering/grappler.py), so these steps run that rule instead of their own.
        reciprocal = _grappler.reciprocal_divisions(ops, fed | set(self.input_tensors))
        if reciprocal:
            self.steps = [(op, _grappler.reciprocal_rule(op) if op in reciprocal else rule, attrs)
                          for op, rule, attrs in self.steps]
        # strings fed to the step (or produced by its host inputs) that a device op reads or the run fetches
        # make it a host plan; those only host inputs read never reach the compiled step (`host_only_feeds`:
        # it gets None in their place)
        read = {t for op in ops for t in op._inputs}.union(self.fetch_tensors)
        fed_or_input = self.feed_tensors + self.input_tensors
        strings = [i for i, t in enumerate(fed_or_input) if t.dtype == _dtypes.string]
        self.host = host or any(fed_or_input[i] in read for i in strings)
        self.host_only_feeds = frozenset(strings)
        self.ops = ops
        # tf.device (lowering/placement.py): {op: JAX device or None (the default)}, the devices named.
        # One device named: the whole plan runs there (compiled as usual); several: op by op, placed.
        self.placement, self.devices = _placement.assign(ops + [s[0] for s in self.input_steps], soft_placement)
        if len(self.devices) == 1 and any(d is None for d in self.placement.values()):
            # ops without a device run on the default device, as TF's placer puts them (embeddings on
            # /cpu:0 and the rest of the model on GPU:0 is two devices)
            default = _placement.default_device()
            if self.devices[0] != default:
                self.devices = self.devices + [default]
        self.device = self.devices[0] if len(self.devices) == 1 else None
        self.multi_device = len(self.devices) > 1
        self.device_spec = device
        self.soft_placement = soft_placement
        # A host tail (summaries of a training step) need not make the whole plan eager: the device
        # part compiles as its own plan and the host ops run afterwards on its results.
        self.tail = _split_host_tail(self, ops, fed, target_ops, device) if self.host else None
        self.stateful = any(rule.context for _, rule, _ in self.steps)
        # Nothing to compute: constants and the handles of resources (the device part of an iterator's
        # initializer, `from_tensor_slices` of arrays). A compiled run would only copy the constants to new
        # buffers on every run; op by op they are the same arrays every run (an initializable iterator's
        # epoch loop then keeps its device copies: lowering/rules/data.py `_same_array`).
        self.computes_nothing = all(op.type in _NOTHING_TO_COMPUTE for op, _, _ in self.steps)
        # A training step (OpDef.loop: gradients, optimizer updates, iterator reads) is run again and
        # again: it compiles on its first run instead of running op by op first.
        self.loop_body = any(get_op_def(op.type).loop for op, _, _ in self.steps)
        self.random = any(op.type.startswith(("Random", "TruncatedNormal", "Multinomial", "StatelessRandom"))
                          for op, _, _ in self.steps)
        # Feeds whose static shape leaves dimensions open: the shapes a signature sees may change from
        # run to run (batches of any size, sequences of any length). Host inputs' outputs are feeds of the
        # compiled step too (a dequeued or py_func-preprocessed batch).
        self.open_feeds = any(t.shape.ndims is None or None in t.shape.as_list()
                              for t in self.feed_tensors + self.input_tensors)
        if self.row_ids and (self.host or self.tail is not None or self.padding() is None):
            # the step cannot pad them: each row count would be a compile. tf.where stays a host op (a host
            # tail, op by op, where any count costs nothing extra)
            self.__init__(fetch_tensors, target_ops, feed_tensors, device, soft_placement, _row_ids=False)

    def padding(self) -> Optional[_pad.Pad]:
        """This plan's shape-bucket analysis (lowering/padding.py), computed once: None where padding
        could change a result (the plan then runs at exact shapes)."""
        if self._padding is _NOT_ANALYZED:
            self._padding = _pad.analyze(self)
        return self._padding

    @property
    def all_feeds(self) -> list:
        """The tensors bound before `steps` run: feeds, host inputs' outputs, hoisted constants."""
        return self.feed_tensors + self.input_tensors + list(self.hoisted)


def _split_host_tail(plan: Plan, ops: list, fed: set, target_ops: Sequence, device: Optional[str]):
    """A HostTail when the host ops form a tail, else None (the whole plan then runs op by op).

    Host ops are those with host rules or string values, and everything downstream of them (data or
    control). The rest forms a device plan whose fetches are the device-side fetches plus the tensors
    host ops read ("bridges"). Variable refs read by host ops are re-derived on the host (their
    VariableV2 op is pure). None when nothing would compile (all host) or a bridge is unusual.
    """
    host_ops: set = set()
    for op in ops:
        if _runs_on_host(op, get_rule(op.type), plan.fetch_tensors, plan.row_ids) \
                or any((t.dtype == _dtypes.string and not _printed(t)) or (t not in fed and t.op in host_ops)
                       for t in op._inputs) \
                or any(c in host_ops for c in op._control_inputs):
            host_ops.add(op)
    device_ops = [op for op in ops if op not in host_ops and op.type != "Const"]
    if not device_ops or not host_ops:
        # no host op: the plan is a host plan only because a host input is a string (a dequeued key); its
        # device part would be this very plan again
        return None
    bridges, extra_host = [], []
    for op in ops:
        if op not in host_ops:
            continue
        for t in op._inputs:
            if t in fed or t.op in host_ops or t in bridges:
                continue
            if t.dtype.is_ref_dtype or t.dtype.base_dtype in (_dtypes.resource, _dtypes.variant):
                # handles are host values: re-derive them on the host from their (input-less) source op
                if t.op._inputs:
                    return None
                if t.op not in extra_host:
                    extra_host.append(t.op)
                continue
            bridges.append(t)
    device_fetches = [t for t in plan.fetch_tensors if t.op not in host_ops and t not in fed]
    device_targets = [op for op in target_ops if op not in host_ops]
    fetches = device_fetches + [t for t in bridges if t not in device_fetches]
    # device ops the host ops need only through control inputs (an initializer's assign that a host op
    # orders after) still run: every device op of the plan becomes a target unless a fetch covers it
    covered = set(prune(fetches, device_targets, fed))
    device_targets += [op for op in device_ops if op not in covered]
    if not fetches and not device_targets:
        return None
    feed_index = [i for i, t in enumerate(plan.feed_tensors) if t.dtype != _dtypes.string]
    device_plan = Plan(fetches, device_targets, [plan.feed_tensors[i] for i in feed_index], device,
                       plan.soft_placement)
    if device_plan.host:
        return None
    host_set = host_ops.union(extra_host)
    host_steps = [s for s in plan.steps if s[0] in host_set]
    for op in extra_host:
        if all(s[0] is not op for s in host_steps):
            host_steps.append(step(op))
    host_steps.sort(key=lambda s: s[0]._id)
    return HostTail(device_plan, feed_index, host_steps, frozenset(s[0] for s in host_steps))


def _runs_on_host(op, rule, fetched=(), row_ids=frozenset()) -> bool:
    """Host rules, string values and host inputs that stayed in the step keep an op out of jitted code.
    tf.print's StringFormat is the exception: only its PrintV2 reads the string, and formats it on the
    host from the traced values, unless the string itself is fetched; and so is a tf.where the padded
    step computes (`row_ids`)."""
    if op in row_ids:
        return False
    if op.type == "StringFormat" and not runs_on_host(rule, op) and op._outputs[0] not in fetched:
        return False
    if op.type == "Const" and _assert_text(op._outputs[0]) and op._outputs[0] not in fetched:
        return False
    return runs_on_host(rule, op) or any(t.dtype == _dtypes.string for t in op._outputs) \
        or _wants_host_input(op)


def _printed(t) -> bool:
    """A string tensor only PrintV2 reads, produced by a StringFormat that stays in compiled code; or a
    constant text only tf.Assert reads (its rule formats the message on the host, when it fails)."""
    return (t.op.type == "StringFormat" and not runs_on_host(get_rule("StringFormat"), t.op)) or _assert_text(t)


def _assert_text(t) -> bool:
    """A string constant whose only readers are Asserts (TF's dynamic_rnn checks its sequence_length so)."""
    if t.op.type != "Const" or t.dtype != _dtypes.string:
        return False
    consumers = t.consumers()
    return bool(consumers) and all(c.type == "Assert" and c._inputs[0] is not t for c in consumers)


def _wants_host_input(op) -> bool:
    flag = get_rule(op.type).host_input
    return bool(flag(op) if callable(flag) else flag)


def _host_inputs(ops: list, fetch_tensors: Sequence, target_ops: Sequence, fed: set) -> tuple:
    """(host input ops, the ops left for the step). Host heads (`_host_head`) only where something is left
    to compile: a plan of host ops alone runs op by op as before (no compile for `run(tf.string_split(x))`)."""
    heads: dict = {}

    def split(with_heads: bool) -> tuple:
        input_ops = [op for op in ops if _is_host_input(op, fed) or (with_heads and _host_head(op, fed, heads))]
        if not input_ops:
            return [], ops
        produced = {t for op in input_ops for t in op._outputs}
        skip = set(input_ops)
        return input_ops, [op for op in prune(fetch_tensors, target_ops, fed | produced) if op not in skip]
    input_ops, rest = split(True)
    if any(heads.get(op) for op in input_ops) \
            and (all(op.type == "Const" for op in rest) or _needs_host(rest, fetch_tensors)):
        input_ops, rest = split(False)  # nothing to compile, or the step is a host plan anyway: as before
    return input_ops, rest


def _needs_host(ops: list, fetch_tensors: Sequence) -> bool:
    """Whether a step of `ops` runs on the host (a host rule, a string it reads or fetches)."""
    return any(_runs_on_host(op, get_rule(op.type), fetch_tensors)
               or any(t.dtype == _dtypes.string and not _printed(t) for t in op._inputs) for op in ops) \
        or any(t.dtype == _dtypes.string for t in fetch_tensors)


def _host_head(op, fed: set, heads: dict) -> bool:
    """Whether `op` is a pure host op of what the run feeds, to run before the compiled step as a host
    input: fed strings parsed, split, decoded or hashed (ParseExample of a serving signature's serialized
    Examples, DecodeCSV of fed lines, StringSplit of fed text), reading only feeds, constants and other
    such ops, with nothing ordering it inside the step. Without it a string feed made the whole step a
    host plan, run op by op. `heads` memoizes the answer per op."""
    known = heads.get(op)
    if known is not None:
        return known
    heads[op] = False  # (while it is being decided)
    rule = get_rule(op.type)
    if rule.context or get_op_def(op.type).stateful or not runs_on_host(rule, op) or _value_sized(op) \
            or not runs_before_the_step(op):  # (no control inputs, cond branch or loop frame upstream)
        return False
    if not all(_of_feeds(t, fed, heads) or _is_host_input(t.op, fed) for t in op._inputs):
        return False
    heads[op] = True
    return True


# Host ops whose outputs' sizes depend on the values they read (tf.where's indices, unique values, a split's
# tokens, an Example's variable-length features): fed to a compiled step, every new size would be a new
# XLA compile, so they stay inside the step (a host tail, op by op), where any size costs nothing extra.
_VALUE_SIZED = frozenset({"Where", "Unique", "UniqueV2", "UniqueWithCounts", "UniqueWithCountsV2",
                          "DynamicPartition", "ListDiff", "StringSplit", "StringSplitV2", "StringNGrams",
                          "UnicodeDecode", "UnicodeDecodeWithOffsets", "SparseFillEmptyRows"})


def _value_sized(op) -> bool:
    if op.type in _VALUE_SIZED:
        return True
    attrs = op.attrs  # parsed Examples: sparse (VarLen) and ragged features have value-dependent sizes
    return any(attrs.get(name) for name in ("Nsparse", "num_sparse", "ragged_value_types", "Ncontext_sparse",
                                             "Nfeature_list_sparse", "context_ragged_value_types",
                                             "feature_list_ragged_value_types", "Nfeature_list_dense")) \
        or op.type.startswith("ParseSequenceExample") or op.type == "ParseSingleSequenceExample"


def _of_feeds(t, fed: set, heads: dict) -> bool:
    """Whether `t` is computed from feeds and constants alone by pure ops (the reshaped mask that
    tf.boolean_mask's Where reads, a sequence_mask of fed lengths): a host head's input the host computes
    too (op by op, before the step; the step may compute it again). Memoized in `heads` as (t,)."""
    if t in fed or t.op.type == "Const":
        return True
    key = (t.op,)
    known = heads.get(key)
    if known is not None:
        return known
    heads[key] = False
    op = t.op
    rule = get_rule(op.type)
    if runs_on_host(rule, op):
        ok = _host_head(op, fed, heads)
    else:
        ok = not (rule.context or get_op_def(op.type).stateful or op._control_inputs or not op._inputs
                  or op.type.startswith(("Random", "Multinomial", "TruncatedNormal"))) \
            and all(_of_feeds(i, fed, heads) for i in op._inputs)
    heads[key] = ok
    return ok


def _is_host_input(op, fed: set) -> bool:
    """Whether `op` runs before the jitted part: its rule says so and it reads only plain host ops."""
    if not _wants_host_input(op) or op._control_inputs:
        return False
    if get_rule(op.type).host_input is runs_before_the_step:
        # a py_func or a vocabulary lookup: hoisted only where what it reads is cheap to have on the host
        # first (feeds, constants, resource handles, pure ops of feeds). A py_func that logs the loss would
        # otherwise run the whole forward pass op by op before every step.
        heads: dict = {}
        return all(t in fed or (not t.op._inputs and t.op.type not in ("Placeholder", "PlaceholderV2"))
                   or _of_feeds(t, fed, heads) for t in op._inputs)
    for t in op._inputs:
        if t in fed:
            continue
        for dep in prune([t], [], fed):
            rule = get_rule(dep.type)
            # source ops (handles, variable refs) may be context rules; anything else with state is not
            # safe to run twice (once here, once in the step)
            if (rule.context and dep._inputs) or dep.type in ("Placeholder", "PlaceholderV2") or _wants_host_input(dep):
                return False
    return True
