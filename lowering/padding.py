"""Shape buckets: a plan whose feeds leave dimensions open runs on inputs padded up to a few sizes, so a new
batch size or sequence length does not cost a new compile — where padding provably cannot change a result.

The analysis (`analyze`, once per plan) gives every open dimension of every feed a symbol and follows the
symbols through the plan's ops, one rule per op kind (the tables below), for each tensor recording which
axes are padded ("axis facts") and, for the small integer tensors that carry shapes (`tf.shape(x)`, its
slices), which elements are symbolic ("value facts"). A plan is padded only when every op is understood:

- row-independent ops (element-wise math with broadcasting, matmul's free axes, bias, activations,
  per-row softmax and losses, reshapes that keep the padded leading axis, transposes, gathers by padded
  ids, slices that keep a padded axis whole or take its row 0 …) compute each real row from real rows
  only (x[1:], x[::-1], x[1] along a padded axis read or move padded rows: exact shapes); x[-1] along a
  padded axis reads the row at the true size - 1 (mask kind "last_index": an RNN's last output);
- reductions and arg-reductions over a padded axis are masked: padded entries become the reduction's
  identity (0 for sums, -inf for max …) and means divide by the true count;
- matmuls that contract a padded axis (X^T X over the batch, attention weights times values over padded
  time steps) zero both factors' padded entries (mask kind "zero_inputs"); a batched matmul's batch axes
  broadcast as an element-wise op's; Softmax / LogSoftmax along a padded last axis normalize over its
  real entries (kind "softmax"; padded entries are shifted by 0, so they stay finite); Tile of a size-1
  axis by a padded size gives that padded axis (an attention mask tiled over the queries);
- a convolution along a padded spatial axis (conv1d over time steps, a fully convolutional layer over
  images of any size) with SAME padding and stride 1 zeroes the padded entries first, as SAME's own
  padding past the true end is (kind "zero"); other paddings and strides make an output size of their own;
- shapes used as shapes (`tf.zeros([tf.shape(x)[0], 3])`, `reshape(y, tf.shape(x))`) see padded sizes,
  consistently; shapes used as numbers (`loss / tf.cast(tf.shape(x)[0], tf.float32)`,
  `reduce_prod(tf.shape(x))`) see true sizes (mask kind "true_values"). Which inputs may take a shape
  value as a shape is an explicit whitelist (`_VALUE_INPUTS`: Reshape's shape, Fill's dims, Range's
  limit, Tile's multiples, a TensorArray's size, and the ops that move shape values on, a Gather by
  constant indices among them: TF's tensordot picks a shape's free and contracted sizes so); a shape
  value reaching any other input of an op that does not substitute the true sizes (`_TRUE_VALUE_RULES`:
  element-wise ops, reductions) makes the plan run at exact shapes, and so does a gradient with respect
  to a shape value;
- gradients: a gradient's seeds (TF's implicit ones of y's shape, or the given grad_ys) have their padded
  rows zeroed (mask kind "zero_inputs" on SymbolicGradient's dy inputs); `jax.vjp` of the masked forward
  then gives padded rows zero cotangents, so weight gradients (contractions over the padded axis) equal
  the unpadded ones exactly;
- While loops (tf.while_loop and what TF builds on it: dynamic_rnn, map_fn, scan) are analysed through
  their cond and body until the loop variables' facts settle; a `maximum_iterations` that is a padded size
  (dynamic_rnn's time steps) stays the static length of the differentiable scan while the loop stops at
  the true size, so steps past it never run; TensorArrays sized by a padded size keep their padded slots
  apart (`range(0, n)` indices of unstack/stack land in them) and check other indices against the true size;
  their stack() (a `range(0, n)` gather, mask kind "edge_gather") repeats the last real slot into the
  padded rows, which a loop that stopped at the true size never wrote;
- tf.where of a 1-D mask (tf.boolean_mask's rows, `_row_ids_in_step`): its row count is a size of its
  own, counted in the step and returned with the fetches (`Pad.computed`); the ids are padded to the
  mask's (padded) length and repeat the last real id. Since they index the mask's real rows, a Gather by
  them along the mask's padded axis reads real rows only (the mask's size and the gathered tensor's are
  unified). A [batch, time] mask flattened for it (tf.boolean_mask by tf.sequence_mask) selects its real
  entries by their (i // padded time, i % padded time) position. A mask that keeps nothing has no real
  row to repeat: that step re-runs op by op;
- a [batch, time, k] tensor reshaped to [batch * time, k] (a dense layer over every time step) has one
  flattened axis of two padded sizes (`_flattens`, `_Facts.flat`): its padded entries are not a suffix, so
  reductions and gradient seeds along it are masked by position (`_mask`: entry i is (i // padded n2,
  i % padded n2)), other ops must be row-independent (a matmul, an activation) until the reshape back to
  [batch, time, …] (`_unflattens`); a fetch of it or another mask kind along it runs exact. A range
  over a padded size may be compared (tf.sequence_mask's `range(maxlen) < lengths`): a bool at each
  padded entry is as valid as any;
- a stateful random draw (RandomUniform, RandomStandardNormal, TruncatedNormal, RandomUniformInt: dropout's
  `random_uniform(tf.shape(x))`) padded along its first axis only: TF's fill is row-major, so its real rows
  are the exact draw's and the stream moves on by the real outputs (`_random_draw`, mask kind "rng_count");
- everything else that touches a padded axis (other random ops, variable writes of padded values, sorting,
  scanning or reversing along it, `tf.squeeze` without axes, data-dependent shapes, an op without a rule
  here) makes the plan run at exact shapes.

Padding repeats each feed's last real row ("edge" padding): padded rows are then copies of a real row all
the way through row-independent ops, so they stay finite and valid (ids in range, no division by zero)
whenever the real rows are — their zero cotangents never meet an inf or NaN.

Known difference, left as is: Max/Min over a padded axis fill the padded entries with -inf/+inf, so where
the real maximum is itself -inf (the minimum +inf) the padded entries tie with it, and the gradient's
split among tied entries counts them: each real entry gets less than 1/n. The exact run already differs
from TF there (its reduction's -inf identity counts as one more tie: 1/(2n) against TF's 1/n); values
are equal in all three.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np

from graphcompat.framework import constant_op as _const


class Unpaddable(Exception):
    """Padding could change a result (or is not understood) for this op: run at exact shapes."""


class Sym:
    """A symbolic size (an open feed dimension); equal sizes are unified (union-find)."""

    __slots__ = ("parent",)

    def __init__(self):
        self.parent = self

    def root(self) -> "Sym":
        node = self
        while node.parent is not node:
            node.parent = node.parent.parent
            node = node.parent
        return node

    def __repr__(self) -> str:
        return f"Sym@{id(self.root()) % 1000}"


def _unify(a: Sym, b: Sym) -> None:
    ra, rb = a.root(), b.root()
    if ra is not rb:
        rb.parent = ra


class Pad(NamedTuple):
    """What padded execution needs: how to pad feeds, which ops run masked, how to cut the fetches."""
    symbols: list                # root Syms, one per independent size
    feed_axes: list              # per feed, then per host input output: [(axis, symbol index)]
    fetch_axes: list             # per fetch: [(axis, symbol index)] to slice off
    fetch_values: list           # per fetch: value facts (np object array) to replace with true sizes, or None
    masked: dict                 # op → (kind, {input index: {axis: symbol index}})
    # symbol indices whose true sizes the step computes (tf.where's row counts): the step returns them,
    # after its fetches, for cutting those
    computed: frozenset = frozenset()
    # symbol index → (index, index): a flattened axis of two padded sizes, its size their product
    flat: dict = {}

    def buckets(self, sizes: Sequence, bucket) -> list:
        """Each symbol's padded size for these true sizes, `bucket(n)` the configured rounding (a size
        the step computes has none: no feed is padded along it; a flattened one is its parts' product)."""
        out = [0 if i in self.computed or i in self.flat else bucket(n) for i, n in enumerate(sizes)]
        for i, (a, b) in self.flat.items():
            out[i] = out[a] * out[b]
        return out


# ------------------------------------------------------------------------------------------------
# The analysis
# ------------------------------------------------------------------------------------------------
class _Facts:
    def __init__(self):
        self.axes: dict = {}     # tensor → tuple(Sym | None per axis) (absent: nothing padded)
        self.values: dict = {}   # tensor → np object array of ints / Syms (shape plumbing)
        self.masked: dict = {}   # op → (kind, {input index: {axis: Sym}} or {input index: value facts})
        self.tainted: set = set()  # data computed from true sizes: never usable as a static shape
        self.zero_rows: set = set()  # gradient rows whose padded entries are exactly zero
        # TensorArray handle → [size Sym | None, element axis facts | None (no padded write seen)]
        self.arrays: dict = {}
        self.iota: dict = {}     # tensor → Sym: `range(0, n)` of a padded size n (its padded entries are ≥ n)
        # tensor → Sym: ids of real rows of a padded axis (tf.where's of a mask along it, padded)
        self.ids: dict = {}
        self.row_ids: frozenset = frozenset()  # the plan's tf.where ops that the padded step computes
        # Sym of a flattened [n1, n2, …] → (Sym n1, Sym n2): `reshape(x, [-1, k])` of a [batch, time, k]
        # tensor (a dense layer over every time step). Its padded entries are not a suffix: masks along it
        # go by position (`_mask`); otherwise only row-independent ops, and the reshape back.
        self.flat: dict = {}
        self.computed: list = []  # their row counts' Syms, sizes of the step's own making
        self.untrue: set = set()  # values a padded run gets wrong (a gradient with respect to a size): unused

    def of(self, t):
        return self.axes.get(t)

    def padded(self, t) -> bool:
        facts = self.axes.get(t)
        return facts is not None and any(s is not None for s in facts)

    def symbolic(self, t) -> bool:
        value = self.values.get(t)
        return value is not None and any(isinstance(v, Sym) for v in value.reshape(-1))


def analyze(plan) -> Optional[Pad]:
    """The padding of `plan`, or None when it has no open feed or padding is not provably safe."""
    facts = _Facts()
    symbols: list = []
    fed = plan.feed_tensors + plan.input_tensors  # host inputs' outputs are fed to the step like feeds
    for t in fed:
        shape = t.shape
        if t.dtype.base_dtype.name == "string":
            continue  # strings stay on the host (only host inputs read them): nothing to pad
        if shape.ndims is None:
            if t.dtype.is_integer or t.dtype.is_floating or t.dtype.is_bool:
                continue  # a scalar-or-anything feed: never padded, but an op reading it still sees it
            continue
        dims = []
        for d in shape.as_list():
            if d is None:
                s = Sym()
                symbols.append(s)
                dims.append(s)
            else:
                dims.append(None)
        if any(dims):
            facts.axes[t] = tuple(dims)
    facts.row_ids = plan.row_ids
    if not symbols and not facts.row_ids:
        return None
    try:
        for op, rule, attrs in plan.steps:
            _step(op, facts)
        for t in plan.fetch_tensors:
            if t in facts.untrue:
                raise Unpaddable(f"{t.name}: a value a padded run cannot compute")
            if facts.of(t) is None and t.op.type not in ("Placeholder", "PlaceholderV2") and t.shape.ndims is None \
                    and _touches_padding(t.op, facts):
                raise Unpaddable(f"{t.name}: unknown rank")
    except Unpaddable:
        return None
    if {s.root() for s in symbols} & {s.root() for s in facts.computed}:
        return None  # a counted size met a fed one (tf.where's rows against all rows): exact shapes
    # Flattened axes found to be one size (a cross entropy of flattened logits and flattened labels) are one
    # layout only if their parts are the same sizes: unified too (fed sizes that disagree run exact)
    first: dict = {}
    for f, (a, b) in facts.flat.items():
        other = first.setdefault(f.root(), (a, b))
        _unify(other[0], a)
        _unify(other[1], b)
    flat = {f.root(): (a.root(), b.root()) for f, (a, b) in facts.flat.items()}
    fed_roots = {s.root() for s in symbols}
    if set(flat) & {s.root() for s in symbols + facts.computed} \
            or any(part not in fed_roots for parts in flat.values() for part in parts) \
            or any(s.root() in flat for kind, axes in facts.masked.values() if kind not in _MASKED_BY_POSITION
                   for a in axes.values() if isinstance(a, dict) for s in a.values()) \
            or any(s is not None and s.root() in flat for t in plan.fetch_tensors for s in facts.of(t) or ()) \
            or any(isinstance(v, Sym) and v.root() in flat for kind, spec in facts.masked.values()
                   if kind == "rng_count" for v in spec[0].reshape(-1)):
        return None  # a flattened axis met another size, was masked or fetched: its layout is not a prefix
    roots = []
    for s in symbols + facts.computed + list(facts.flat):
        r = s.root()
        if r not in roots:
            roots.append(r)
    index = {r: i for i, r in enumerate(roots)}

    def axes_of(t):
        return [(a, index[s.root()]) for a, s in enumerate(facts.of(t) or ()) if s is not None]
    masked = {}
    for op, (kind, inputs) in facts.masked.items():
        if kind in ("true_values", "rng_count"):
            masked[op] = (kind, {i: _index_value(v, index) for i, v in inputs.items()})
        else:
            masked[op] = (kind, {i: {a: index[s.root()] for a, s in axes.items()} for i, axes in inputs.items()})
    fetch_values = []
    for t in plan.fetch_tensors:
        value = facts.values.get(t)
        fetch_values.append(_index_value(value, index) if value is not None and facts.symbolic(t) else None)
    return Pad(roots, [axes_of(t) for t in fed], [axes_of(t) for t in plan.fetch_tensors],
               fetch_values, masked, frozenset(index[s.root()] for s in facts.computed),
               {index[f.root()]: (index[a.root()], index[b.root()]) for f, (a, b) in facts.flat.items()})


def _index_value(value, index):
    out = np.empty(value.shape, dtype=object)
    for i, v in np.ndenumerate(value):
        out[i] = ("sym", index[v.root()]) if isinstance(v, Sym) else v
    return out


def _touches_padding(op, facts: _Facts) -> bool:
    return any(facts.padded(t) or facts.symbolic(t) or t in facts.tainted or t in facts.arrays
               or t in facts.untrue for t in op._inputs)


_IOTA_CONSUMERS = ("TensorArrayScatterV3", "TensorArrayGatherV3", "SymbolicGradient")  # the last re-traces them
# A comparison with a range over a padded size (tf.sequence_mask's `range(maxlen) < lengths`) gives a bool at
# each padded entry, as valid as any: the range's padded entries (counting on past the true size) go no further
_COMPARISONS = frozenset({"Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual"})


# Stateful Philox draws, padded along their first axis only (`_random_draw`)
_RANDOM_DRAWS = ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt")

# Shape values (`tf.shape(x)` of a padded x, its slices: the tensors with symbolic "value facts") hold the
# PADDED sizes in a padded run. That is right only where they are used as shapes, or moved on to such a
# use: the inputs listed here (op type → input indices; None: every input). Any other input reads them as
# numbers, which must be the true sizes: the rules in _TRUE_VALUE_RULES substitute them (mask kind
# "true_values"), every other op makes the plan run at exact shapes.
_VALUE_INPUTS: dict = {
    # used as shapes (or sizes of what they build)
    "Reshape": (1,), "Fill": (0,), "Range": (1,), "Tile": (1,), "TensorArrayV3": (0,),
    **dict.fromkeys(_RANDOM_DRAWS, (0,)),
    # moved on: their rules give the outputs the value facts (_value_plumbing, _identity, _strided_slice …)
    "Identity": (0,), "Snapshot": (0,), "StopGradient": (0,), "PreventGradient": (0,), "Cast": (0,),
    "StridedSlice": (0,), "Pack": None, "ConcatV2": None, "ExpandDims": (0,), "GatherV2": (0,), "Gather": (0,),
    # only their shapes are read
    "Shape": None, "ShapeN": None, "Rank": None,
    # a loop's / a gradient's own ops are analysed (their inputs are checked there); a While's maximum is
    # a padded size by design (kind "loop_bound")
    "While": None, "StatelessWhile": None, "SymbolicGradient": None,
    # an Assert's data only shows in its message (a failed padded run is re-run exactly)
    "Assert": None,
}


def _takes_shape_value(op, i: int) -> bool:
    if RULES.get(op.type) in _TRUE_VALUE_RULES:
        return True
    which = _VALUE_INPUTS.get(op.type, ())
    return which is None or i in which


def _step(op, facts: _Facts) -> None:
    """Computes the facts of `op`'s outputs from its inputs' (raises Unpaddable)."""
    if op in facts.row_ids:
        _row_ids_in_step(op, facts)
        return
    if not _touches_padding(op, facts):
        return
    if any(t in facts.untrue for t in op._inputs):
        raise Unpaddable(f"{op.type} reads a value a padded run cannot compute")
    if op.type not in _IOTA_CONSUMERS and op.type not in _COMPARISONS and any(t in facts.iota for t in op._inputs):
        # its padded entries count on past the true size: only TensorArray indices are understood
        raise Unpaddable(f"{op.type} reads a range over a padded size")
    for i, t in enumerate(op._inputs):
        if facts.symbolic(t) and not _takes_shape_value(op, i):
            raise Unpaddable(f"{op.type} '{op.name}' reads a padded size as data (input {i})")
    rule = RULES.get(op.type)
    if rule is None:
        raise Unpaddable(f"{op.type} has no padding rule")
    rule(op, facts)
    if any(t in facts.tainted for t in op._inputs):
        facts.tainted.update(op._outputs)
    if op.type in _KEEPS_IDS and op._inputs and op._inputs[0] in facts.ids and op._outputs[0].shape.ndims == 1:
        facts.ids[op._outputs[0]] = facts.ids[op._inputs[0]]


# Ops whose output holds its first input's elements (a [n, 1] tf.where squeezed to [n], ids cast to int32)
_KEEPS_IDS = frozenset({"Squeeze", "Identity", "Cast", "Reshape"})


# ------------------------------------------------------------------------------------------------
# Helpers for rules
# ------------------------------------------------------------------------------------------------
def _axes(facts: _Facts, t) -> tuple:
    """The axis facts of `t` (a tuple of Sym/None), requiring a known rank when anything is padded."""
    value = facts.of(t)
    if value is not None:
        return value
    if t.shape.ndims is None:
        return None
    return (None,) * t.shape.ndims


def _static_dim(t, axis: int) -> Optional[int]:
    dims = t.shape.as_list() if t.shape.ndims is not None else None
    return None if dims is None else dims[axis]


def _set(facts: _Facts, t, axes) -> None:
    if axes is not None and any(s is not None for s in axes):
        facts.axes[t] = tuple(axes)


def _no_padded_inputs(op, facts: _Facts, which: Optional[Sequence[int]] = None) -> None:
    for i, t in enumerate(op._inputs):
        if (which is None or i in which) and (facts.padded(t) or facts.symbolic(t)):
            raise Unpaddable(f"{op.type} '{op.name}' reads a padded tensor at input {i}")


def _const_ints(t) -> Optional[list]:
    value = _const.constant_value(t)
    if value is None:
        return None
    return [int(v) for v in np.reshape(np.asarray(value), [-1])]


def _broadcast(op, facts: _Facts, inputs) -> tuple:
    """Axis facts of a broadcast of `inputs`; a padded axis must meet padded or size-1 axes only."""
    shapes = [_axes(facts, t) for t in inputs]
    if not shapes:  # only shape values (`tf.equal(tf.shape(x), …)`): no data axes
        return None
    if any(s is None for s in shapes):
        if any(facts.padded(t) for t in inputs):
            raise Unpaddable(f"{op.type}: unknown rank next to a padded tensor")
        return None
    return _broadcast_axes(op, list(zip(inputs, shapes)))


def _broadcast_axes(op, inputs: list) -> tuple:
    """The broadcast of `inputs`, (tensor, axis facts of its leading axes) pairs aligned at their ends."""
    rank = max(len(s) for _, s in inputs)
    out = []
    for k in range(rank):
        sym, sizes = None, []
        for t, s in inputs:
            a = k - (rank - len(s))
            if a < 0:
                continue
            if s[a] is not None:
                if sym is None:
                    sym = s[a]
                else:
                    _unify(sym, s[a])
            else:
                sizes.append(_static_dim(t, a))
        if sym is not None and any(d != 1 for d in sizes):
            # a static (or unknown) size other than 1 meets a padded axis: padding breaks the broadcast
            raise Unpaddable(f"{op.type}: a padded axis broadcasts against size {sizes}")
        out.append(sym)
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# Rules, by kind
# ------------------------------------------------------------------------------------------------
def _elementwise(op, facts: _Facts) -> None:
    inputs = list(op._inputs)
    symbolic = {i: facts.values[t] for i, t in enumerate(inputs) if facts.symbolic(t)}
    if symbolic:  # shape values used as numbers: this op reads the true sizes
        facts.masked[op] = ("true_values", symbolic)
    axes = _broadcast(op, facts, [t for t in inputs if not facts.symbolic(t)])
    for out in op._outputs:
        _set(facts, out, axes)
        if symbolic or any(t in facts.tainted for t in inputs):
            facts.tainted.add(out)


def _identity(op, facts: _Facts) -> None:
    src = op._inputs[0]
    for out in op._outputs:
        _set(facts, out, facts.of(src))
        if src in facts.values:
            facts.values[out] = facts.values[src]


def _cast(op, facts: _Facts) -> None:
    _identity(op, facts)


def _matmul(op, facts: _Facts) -> None:
    a, b = _axes(facts, op._inputs[0]), _axes(facts, op._inputs[1])
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        raise Unpaddable("MatMul of unknown rank")
    ta, tb = bool(op.attrs.get("transpose_a")), bool(op.attrs.get("transpose_b"))
    rows, inner_a = (a[1], a[0]) if ta else (a[0], a[1])
    inner_b, cols = (b[1], b[0]) if tb else (b[0], b[1])
    _contraction(op, facts, inner_a, inner_b, 0 if ta else 1, 1 if tb else 0)
    _set(facts, op._outputs[0], (rows, cols))


def _contraction(op, facts: _Facts, inner_a, inner_b, axis_a: int, axis_b: int) -> None:
    """A matmul's contracted axis, when padded: padded in both factors (one size), both masked to zero there
    (kind "zero_inputs", as a gradient's seeds), so the padded entries add 0 * 0 to each sum (X^T X over a
    batch, attention weights times values over padded time steps). Zeros in both factors, not one: a real
    inf or NaN copied into the other factor's padding (edge padding) would make 0 * inf a NaN the exact run
    does not have."""
    if inner_a is None and inner_b is None:
        return
    if inner_a is None or inner_b is None:
        raise Unpaddable(f"{op.type} contracts a padded axis with an unpadded one")
    _unify(inner_a, inner_b)
    facts.masked[op] = ("zero_inputs", {0: {axis_a: inner_a}, 1: {axis_b: inner_b}})


def _batch_matmul(op, facts: _Facts) -> None:
    x, y = op._inputs[0], op._inputs[1]
    a, b = _axes(facts, x), _axes(facts, y)
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        raise Unpaddable("BatchMatMul of unknown rank")
    adj_a = bool(op.attrs.get("adj_x") or op.attrs.get("adj_a"))
    adj_b = bool(op.attrs.get("adj_y") or op.attrs.get("adj_b"))
    rows, inner_a = (a[-1], a[-2]) if adj_a else (a[-2], a[-1])
    inner_b, cols = (b[-1], b[-2]) if adj_b else (b[-2], b[-1])
    # the batch axes broadcast as an element-wise op's (a padded batch axis meets padded or size-1 ones):
    # each batch entry's product reads its own entries only
    lead = _broadcast_axes(op, [(x, a[:-2]), (y, b[:-2])])
    _contraction(op, facts, inner_a, inner_b, len(a) - (2 if adj_a else 1), len(b) - (1 if adj_b else 2))
    _set(facts, op._outputs[0], tuple(lead) + (rows, cols))


def _tile(op, facts: _Facts) -> None:
    """Tile copies along an axis: a size-1 axis tiled by a padded size (`tf.tile(mask[:, None], [1, T, 1])`)
    becomes that padded axis, as a broadcast would; a padded axis may only be tiled once (its copies would
    interleave padded entries with real ones)."""
    x, multiples = op._inputs
    if facts.symbolic(x) or multiples in facts.tainted:
        raise Unpaddable("Tile of shape values, or by a computed multiple")
    axes = _axes(facts, x)
    values = facts.values.get(multiples)
    if values is None:
        values = _const_ints(multiples)
        if values is None:
            if facts.padded(x):
                raise Unpaddable("Tile of a padded tensor by multiples known only at run time")
            return
    values = list(np.reshape(np.asarray(values, dtype=object), [-1]))
    if axes is None or len(values) != len(axes):
        raise Unpaddable("Tile of unknown rank")
    out = []
    for i, (sym, m) in enumerate(zip(axes, values)):
        if sym is not None:
            if isinstance(m, Sym) or m != 1:
                raise Unpaddable("Tile repeats a padded axis")
            out.append(sym)
        elif isinstance(m, Sym):
            if _static_dim(x, i) != 1:
                raise Unpaddable("Tile by a padded size of an axis longer than 1")
            out.append(m)
        else:
            out.append(None)
    _set(facts, op._outputs[0], tuple(out))


def _softmax(op, facts: _Facts) -> None:
    """Softmax and LogSoftmax normalize along the last axis: when it is padded, over its real entries only
    (kind "softmax"; attention weights over padded time steps)."""
    axes = _axes(facts, op._inputs[0])
    if axes is None or not axes or axes[-1] is None:
        return _last_axis_free(op, facts)
    facts.masked[op] = ("softmax", {0: {len(axes) - 1: axes[-1]}})
    _set(facts, op._outputs[0], axes)


def _str_attr(op, name: str, default: str) -> str:
    """A string attribute (bytes in a graph TF wrote) as str."""
    value = op.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else str(value)


def _last_axis_free(op, facts: _Facts) -> None:
    """Ops that mix along the last axis only (softmax, bias add on NHWC, top-k …): it must not be padded.
    BiasAdd in NCHW (channels first) adds along axis 1 instead, which must not be padded then."""
    axes = _axes(facts, op._inputs[0])
    if axes is None or not axes or axes[-1] is not None:
        raise Unpaddable(f"{op.type} mixes along a padded last axis")
    data_format = _str_attr(op, "data_format", "NHWC")
    if op.type == "BiasAdd" and data_format.startswith("NC") and len(axes) > 1 and axes[1] is not None:
        raise Unpaddable("BiasAdd along a padded channel axis")
    for t in op._inputs[1:]:
        if facts.padded(t):
            raise Unpaddable(f"{op.type}: padded secondary input")
    for out in op._outputs:
        _set(facts, out, axes)


def _xent(op, facts: _Facts) -> None:
    """(Sparse)SoftmaxCrossEntropyWithLogits: per-row losses; the class axis must not be padded."""
    features = _axes(facts, op._inputs[0])
    labels = _axes(facts, op._inputs[1])
    if features is None or labels is None or features[-1] is not None:
        raise Unpaddable("cross entropy over a padded class axis")
    rows = features[0]
    if (labels[0] is None) != (rows is None):
        raise Unpaddable("cross entropy: padded rows meet unpadded ones")
    if rows is not None:
        _unify(rows, labels[0])
    if op.type == "SoftmaxCrossEntropyWithLogits" and len(labels) > 1 and labels[-1] is not None:
        raise Unpaddable("cross entropy labels padded along classes")
    _set(facts, op._outputs[0], (rows,))
    _set(facts, op._outputs[1], (rows,) + (None,) * (len(features) - 1))


_REDUCTION_IDENTITY = {"Sum": "zero", "Mean": "mean", "Max": "low", "Min": "high", "Prod": "one",
                       "All": "true", "Any": "false", "ArgMax": "low", "ArgMin": "high", "L2Loss": "zero",
                       "EuclideanNorm": "zero"}
# Mask kinds whose rules find real entries by their position (`_mask`), flattened axes included
_MASKED_BY_POSITION = frozenset(_REDUCTION_IDENTITY.values()) | {"zero_inputs", "row_ids", "softmax"}


def _reduction(op, facts: _Facts) -> None:
    x = op._inputs[0]
    size = _product_of_sizes(op, facts)
    if size is not None:  # tf.boolean_mask's `prod(shape(x)[0:1])`: the padded size itself, a shape value
        facts.values[op._outputs[0]] = size
        return
    if facts.symbolic(x):  # a reduction of shape values (`reduce_prod(tf.shape(x))`) is a number: true sizes
        facts.masked[op] = ("true_values", {0: facts.values[x]})
        facts.tainted.update(op._outputs)
        return
    axes = _axes(facts, x)
    if axes is None:
        raise Unpaddable(f"{op.type} of unknown rank")
    rank = len(axes)
    if op.type == "L2Loss":
        reduced = list(range(rank))
        keep = False
    else:
        index = _const_ints(op._inputs[1])
        if index is None:
            raise Unpaddable(f"{op.type} over axes known only at run time")
        reduced = sorted({a % max(rank, 1) for a in index}) if rank else []
        if op.type in ("ArgMax", "ArgMin"):
            reduced = reduced[:1]
        keep = bool(op.attrs.get("keep_dims", False))
    if op.type in ("ArgMax", "ArgMin"):
        keep = False
    padded_reduced = {a: axes[a] for a in reduced if axes[a] is not None}
    if padded_reduced:
        facts.masked[op] = (_REDUCTION_IDENTITY[op.type], {0: padded_reduced})
    if keep:
        out = tuple(None if a in reduced else s for a, s in enumerate(axes))
    else:
        out = tuple(s for a, s in enumerate(axes) if a not in reduced)
    _set(facts, op._outputs[0], out)


def _product_of_sizes(op, facts: _Facts):
    """The value facts of a Prod of shape values that multiplies one padded size, or two (a flattened
    axis's size: tf.boolean_mask of a [batch, time] mask), by ones: a 0-d object array holding its Sym.
    Else None."""
    x = op._inputs[0]
    if op.type != "Prod" or not facts.symbolic(x) or op.attrs.get("keep_dims", False):
        return None
    value = facts.values[x]
    index = _const_ints(op._inputs[1])
    if value.ndim != 1 or not index or any(a not in (0, -1) for a in index):
        return None
    syms = [v for v in value if isinstance(v, Sym)]
    if len(syms) not in (1, 2) or any(not isinstance(v, Sym) and v != 1 for v in value):
        return None
    out = np.empty((), dtype=object)
    out[()] = syms[0] if len(syms) == 1 else _flat_of(facts, *syms)
    return out


def _flat_of(facts: _Facts, a: Sym, b: Sym) -> Sym:
    """The flattened axis of padded sizes a and b (one Sym per pair)."""
    key = (a.root(), b.root())
    for flat, parts in facts.flat.items():
        if (parts[0].root(), parts[1].root()) == key:
            return flat
    flat = Sym()
    facts.flat[flat] = key
    return flat


def _reshape(op, facts: _Facts) -> None:
    """Only reshapes that keep the leading padded axis (and leave the others static) are understood:
    `tf.reshape(x, [-1, 784])`, `reshape(h, [tf.shape(x)[0], -1])`."""
    x, shape = op._inputs
    axes = _axes(facts, x)
    if axes is None:
        raise Unpaddable("Reshape of unknown rank")
    target = facts.values.get(shape)
    if target is None:
        ints = _const_ints(shape)
        if ints is None:
            raise Unpaddable("Reshape to a run-time shape")
        target = np.asarray(ints, dtype=object)
    target = list(target.reshape(-1))
    if not any(s is not None for s in axes):
        if any(isinstance(v, Sym) for v in target):
            # an unpadded tensor reshaped to a padded shape: its element count is fixed, the padded one not
            raise Unpaddable("Reshape of an unpadded tensor to a symbolic shape")
        return
    if _flattens(op, facts, x, axes, target) or _unflattens(op, facts, x, axes, target):
        return
    if axes[0] is None or any(s is not None for s in axes[1:]):
        raise Unpaddable("Reshape of a tensor padded on other than its leading axis")
    rest_in = x.shape.as_list()[1:] if x.shape.ndims is not None else None
    if rest_in is None or None in rest_in or not target:
        raise Unpaddable("Reshape: trailing dims not static")
    lead = target[0]
    rest_out = target[1:]
    if any(isinstance(v, Sym) or v == -1 for v in rest_out):
        raise Unpaddable("Reshape: symbolic trailing dims")
    if int(np.prod(rest_in, dtype=np.int64)) != int(np.prod(rest_out, dtype=np.int64)):
        raise Unpaddable("Reshape merges the padded axis with others")
    if isinstance(lead, Sym):
        _unify(lead, axes[0])
    elif lead != -1:
        raise Unpaddable("Reshape fixes the size of a padded axis")
    _set(facts, op._outputs[0], (axes[0],) + (None,) * len(rest_out))


def _flattens(op, facts: _Facts, x, axes: tuple, target: list) -> bool:
    """`reshape(x, [-1, k…])` of x [n1, n2, k…] padded along n1 and n2 (a dense layer over every time step
    of a [batch, time, units] tensor): one flattened axis (`_Facts.flat`)."""
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if dims is None or len(axes) < 2 or axes[0] is None or axes[1] is None \
            or any(s is not None for s in axes[2:]) or None in dims[2:] or not target \
            or any(isinstance(v, Sym) or v == -1 for v in target[1:]):
        return False
    flat = _flat_of(facts, axes[0], axes[1])
    # [-1, k…], or [prod(shape(x)[:2]), k…] (tf.boolean_mask's reshape of a [batch, time] masked tensor)
    if not (isinstance(target[0], Sym) and target[0].root() is flat.root()) and target[0] != -1:
        return False
    if int(np.prod(dims[2:], dtype=np.int64)) != int(np.prod(target[1:], dtype=np.int64)):
        raise Unpaddable("Reshape merges padded axes with others")
    _set(facts, op._outputs[0], (flat,) + (None,) * (len(target) - 1))
    return True


def _unflattens(op, facts: _Facts, x, axes: tuple, target: list) -> bool:
    """`reshape(y, concat([shape(x)[:2], [units]]))` of a flattened y back to [n1, n2, units…]."""
    parts = facts.flat.get(axes[0]) if axes and axes[0] is not None else None
    if parts is None:
        return False
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if dims is None or any(s is not None for s in axes[1:]) or None in dims[1:] or len(target) < 2 \
            or not isinstance(target[0], Sym) or not isinstance(target[1], Sym) \
            or any(isinstance(v, Sym) or v == -1 for v in target[2:]) \
            or int(np.prod(dims[1:], dtype=np.int64)) != int(np.prod(target[2:], dtype=np.int64)):
        raise Unpaddable("Reshape of a flattened axis other than back to its two sizes")
    _unify(parts[0], target[0])
    _unify(parts[1], target[1])
    _set(facts, op._outputs[0], (target[0], target[1]) + (None,) * (len(target) - 2))
    return True


def _shape(op, facts: _Facts) -> None:
    for src, out in zip(op._inputs, op._outputs):
        axes = _axes(facts, src)
        if axes is None:
            raise Unpaddable("Shape of unknown rank")
        dims = src.shape.as_list()
        facts.values[out] = np.asarray([s if s is not None else (d if d is not None else Sym()) for s, d in
                                        zip(axes, dims)], dtype=object)
        if any(d is None and s is None for s, d in zip(axes, dims)):
            raise Unpaddable("Shape of a tensor with an unknown, unpadded dim")


def _value_plumbing(fn):
    """Ops that move shape values around (slice, stack, concat, gather of constants): facts follow."""
    def rule(op, facts: _Facts) -> None:
        if any(facts.padded(t) for t in op._inputs):
            raise Unpaddable(f"{op.type} on a padded data tensor")
        values = []
        for t in op._inputs:
            value = _known_value(t, facts)
            if value is None:
                raise Unpaddable(f"{op.type}: shape arithmetic with run-time values")
            values.append(value)
        out = fn(op, values)
        facts.values[op._outputs[0]] = np.asarray(out, dtype=object)
    return rule


def _known_value(t, facts: _Facts, depth: int = 8):
    """`t`'s value as an object array of ints and Syms, where the analysis or the graph knows it: its value
    facts, a constant, or the static sizes TF's tensordot computes from a shape (`Prod(Gather(shape, [2]))`:
    its non-padded part, which touches no padding and so has no facts of its own). Else None."""
    if t in facts.values:
        return facts.values[t]
    const = _const.constant_value(t)
    if const is not None:
        return np.asarray(const, dtype=object) if np.ndim(const) else np.asarray(const).astype(object)
    op = t.op
    if depth == 0:
        return None
    if op.type in ("Identity", "Cast") or op.type in ("Gather", "GatherV2", "Prod") and len(op._inputs) >= 2:
        source = _known_value(op._inputs[0], facts, depth - 1)
        if source is None or any(isinstance(v, Sym) for v in source.reshape(-1)):
            return None
        if op.type in ("Identity", "Cast"):
            return source
        if op.type == "Prod":
            axes = _const_ints(op._inputs[1])
            if source.ndim != 1 or not axes or any(a not in (0, -1) for a in axes) or \
                    op.attrs.get("keep_dims", False):
                return None
            out = np.empty((), dtype=object)
            out[()] = int(np.prod([int(v) for v in source]))
            return out
        return _gathered_values(op, source)
    return None


def _gathered_values(op, source):
    """Gather of a 1-D shape value by constant indices along axis 0 (TF's tensordot gathers a shape's free
    and contracted dimensions), else None."""
    indices = _const.constant_value(op._inputs[1])
    axis = _const_ints(op._inputs[2]) if len(op._inputs) > 2 else [0]
    if indices is None or axis != [0] or source.ndim != 1 or op.attrs.get("batch_dims", 0):
        return None
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer) or np.any((indices < 0) | (indices >= len(source))):
        return None
    return source[indices]


def _ss_values(op, values):
    from graphcompat.framework.strided_slice import numpy_strided_slice
    x, b, e, s = values
    b, e, s = (np.asarray(v, dtype=np.int64).reshape(-1) for v in (b, e, s))
    return np.asarray(x[numpy_strided_slice(x, b, e, s, op.attrs)], dtype=object)


def _strided_slice(op, facts: _Facts) -> None:
    x = op._inputs[0]
    if x in facts.values and not facts.padded(x):
        _value_plumbing(_ss_values)(op, facts)
        return
    if any(facts.padded(t) or facts.symbolic(t) for t in op._inputs[1:]):
        raise Unpaddable("StridedSlice with symbolic bounds")
    axes = _axes(facts, x)
    b, e, s = (_const_ints(t) for t in op._inputs[1:])
    if axes is None or b is None or e is None or s is None:
        raise Unpaddable("StridedSlice with run-time bounds or unknown rank")
    from graphcompat.framework.strided_slice import NEW_AXIS, SHRINK, canonical_strided_slice
    attrs = op.attrs
    # A padded axis's size is unknown here (None): its bounds stay as written, not resolved against a size
    # (x[-1] must not become x[0], nor x[1] an error of the analysis).
    try:
        spec = canonical_strided_slice([None if a is not None else d for a, d in zip(axes, x.shape.as_list())],
                                       b, e, s, attrs.get("begin_mask", 0), attrs.get("end_mask", 0),
                                       attrs.get("ellipsis_mask", 0), attrs.get("new_axis_mask", 0),
                                       attrs.get("shrink_axis_mask", 0))
    except ValueError as err:  # the exact run raises TF's error for it
        raise Unpaddable(f"StridedSlice: {err}") from err
    out, last = [], {}
    for entry in spec:
        if entry[0] == NEW_AXIS:
            out.append(None)
        elif entry[0] == SHRINK:
            d, index = entry[1], entry[2]
            # x[0] is a real row for every true size (a padded run has at least one); x[-1] is the row at the
            # true size - 1 (kind "last_index": the padded row there is an edge copy whose gradient would
            # land in the padding); x[1] may be a padded row (TF's error when n = 1)
            if axes[d] is not None and index == -1:
                last[d] = axes[d]
            elif axes[d] is not None and index != 0:
                raise Unpaddable("StridedSlice: an index other than 0 or -1 into a padded axis")
        else:
            _, d, start, stop, step, _size = entry
            if axes[d] is not None:
                # only the whole axis (x[:], x[0:]): any other bound or step moves or cuts padded rows in
                if not ((start in (None, 0)) and stop is None and step == 1):
                    raise Unpaddable("StridedSlice cuts a padded axis")
            out.append(axes[d])
    if last:
        facts.masked[op] = ("last_index", {0: last})
    _set(facts, op._outputs[0], out)


def _pack(op, facts: _Facts) -> None:
    if all(not facts.padded(t) for t in op._inputs):
        _value_plumbing(lambda op, vs: np.stack(vs, axis=int(op.attrs.get("axis", 0))))(op, facts)
        return
    axes = _broadcast_equal(op, facts, op._inputs)
    axis = int(op.attrs.get("axis", 0)) % (len(axes) + 1)
    _set(facts, op._outputs[0], axes[:axis] + (None,) + axes[axis:])


def _broadcast_equal(op, facts, inputs) -> tuple:
    shapes = [_axes(facts, t) for t in inputs]
    if any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1:
        raise Unpaddable(f"{op.type}: ranks unknown or differ")
    out = []
    for k in range(len(shapes[0])):
        syms = [s[k] for s in shapes if s[k] is not None]
        if syms and len(syms) != len(shapes):
            raise Unpaddable(f"{op.type}: a padded axis meets an unpadded one")
        for other in syms[1:]:
            _unify(syms[0], other)
        out.append(syms[0] if syms else None)
    return tuple(out)


def _concat(op, facts: _Facts) -> None:
    *values, axis_t = op._inputs
    if all(not facts.padded(t) for t in values):
        _value_plumbing(lambda op, vs: np.concatenate(vs[:-1], axis=int(np.asarray(vs[-1]))))(op, facts)
        return
    axis = _const_ints(axis_t)
    axes = _broadcast_equal(op, facts, values)
    if axis is None:
        raise Unpaddable("ConcatV2 along a run-time axis")
    a = axis[0] % len(axes)
    if axes[a] is not None:
        raise Unpaddable("ConcatV2 along a padded axis")
    _set(facts, op._outputs[0], axes)


def _split(op, facts: _Facts) -> None:
    """Split (axis, value) and SplitV (value, size_splits, axis): pieces keep the value's padding when the
    split axis is not padded (a GRU/LSTM cell splitting its gates along the feature axis)."""
    if op.type == "Split":
        axis_t, value = op._inputs
        sizes_t = None
    else:
        value, sizes_t, axis_t = op._inputs
    axes = _axes(facts, value)
    axis = _const_ints(axis_t)
    if axes is None or axis is None or facts.symbolic(value):
        raise Unpaddable(f"{op.type} of unknown rank or along a run-time axis")
    if sizes_t is not None and (facts.padded(sizes_t) or facts.symbolic(sizes_t) or sizes_t in facts.tainted):
        raise Unpaddable("SplitV with sizes computed from padded shapes")
    if axes[axis[0] % len(axes)] is not None:
        raise Unpaddable(f"{op.type} along a padded axis")
    for out in op._outputs:
        _set(facts, out, axes)


def _transpose(op, facts: _Facts) -> None:
    axes = _axes(facts, op._inputs[0])
    perm = _const_ints(op._inputs[1])
    if axes is None or perm is None:
        raise Unpaddable("Transpose with run-time perm")
    _set(facts, op._outputs[0], tuple(axes[p] for p in perm))


def _expand_dims(op, facts: _Facts) -> None:
    axes = _axes(facts, op._inputs[0])
    axis = _const_ints(op._inputs[1])
    if axes is None or axis is None:
        raise Unpaddable("ExpandDims")
    a = axis[0] % (len(axes) + 1)
    _set(facts, op._outputs[0], axes[:a] + (None,) + axes[a:])


def _squeeze(op, facts: _Facts) -> None:
    axes = _axes(facts, op._inputs[0])
    if axes is None:
        raise Unpaddable("Squeeze of unknown rank")
    dims = op._inputs[0].shape.as_list()
    named = op.attrs.get("squeeze_dims")
    if not named and any(s is not None for s in axes):
        # without axes TF squeezes every axis of size 1 at run time: a padded axis whose true size is 1
        # would be squeezed exactly but not at its padded size (another output shape)
        raise Unpaddable("Squeeze without axes of a tensor with a padded axis")
    which = named or [a for a, d in enumerate(dims) if d == 1]
    which = {a % len(axes) for a in which}
    if any(axes[a] is not None for a in which):
        raise Unpaddable("Squeeze of a padded axis")
    _set(facts, op._outputs[0], tuple(s for a, s in enumerate(axes) if a not in which))


def _gather(op, facts: _Facts) -> None:
    params, indices = op._inputs[0], op._inputs[1]
    if facts.symbolic(params):  # shape values picked by constant indices (TF's tensordot): facts follow
        picked = _gathered_values(op, facts.values[params])
        if picked is None or facts.padded(indices) or facts.symbolic(indices):
            raise Unpaddable("Gather of shape values by run-time indices")
        facts.values[op._outputs[0]] = np.asarray(picked, dtype=object)
        return
    p, i = _axes(facts, params), _axes(facts, indices)
    axis = _const_ints(op._inputs[2]) if len(op._inputs) > 2 else [0]
    if p is None or i is None or axis is None or op.attrs.get("batch_dims", 0):
        raise Unpaddable("Gather")
    a = axis[0] % len(p)
    if p[a] is not None:
        ids = facts.ids.get(indices)
        if ids is None:
            raise Unpaddable("Gather along a padded axis")  # a bad id below the bucket would go unnoticed
        # ids of the mask's real rows: the mask's axis and this one are one size, or the run is exact
        # (feeds that disagree about a size run unpadded, where a bad id raises TF's error)
        _unify(p[a], ids)
    _set(facts, op._outputs[0], p[:a] + i + p[a + 1:])


def _row_ids_in_step(op, facts: _Facts) -> None:
    """tf.where of a 1-D mask the step computes: its rows are a new size, counted in the step, padded to
    the mask's (padded or static) length; the padded rows repeat the last real id, as edge padding would.
    The ids index the mask's rows, so a Gather by them along that axis reads real rows only."""
    if op in facts.masked:  # analysed again as an op of a gradient's forward function: the same size
        return
    mask = _axes(facts, op._inputs[0])
    if mask is None or len(mask) != 1:
        raise Unpaddable("Where of a mask of rank other than 1 in the step")
    if facts.symbolic(op._inputs[0]) or op._inputs[0] in facts.tainted:
        raise Unpaddable("Where of shape values")
    rows = Sym()
    facts.computed.append(rows)
    out = op._outputs[0]
    facts.axes[out] = (rows, None)
    if mask[0] is not None:
        facts.ids[out] = mask[0]
    facts.masked[op] = ("row_ids", {0: {0: mask[0]} if mask[0] is not None else {}, -1: {0: rows}})


def _one_hot(op, facts: _Facts) -> None:
    _no_padded_inputs(op, facts, which=[1, 2, 3])
    axes = _axes(facts, op._inputs[0])
    if axes is None:
        raise Unpaddable("OneHot of unknown rank")
    axis = int(op.attrs.get("axis", -1))
    a = len(axes) if axis == -1 else axis
    _set(facts, op._outputs[0], axes[:a] + (None,) + axes[a:])


def _fill(op, facts: _Facts) -> None:
    dims, value = op._inputs
    if facts.padded(value) or facts.symbolic(value) or dims in facts.tainted:
        raise Unpaddable("Fill with a padded value or a computed size")
    target = facts.values.get(dims)
    if target is None:
        return
    _set(facts, op._outputs[0], tuple(v if isinstance(v, Sym) else None for v in target.reshape(-1)))


def _random_draw(op, facts: _Facts) -> None:
    """A stateful Philox draw shaped by a padded size (dropout's `random_uniform(tf.shape(x))`). TF's fill is
    row-major, group g of outputs from the Philox call at counter + g (lowering/philox.py), so a draw padded
    along its FIRST axis holds the exact draw's values in its real rows and the stream's continuation in
    the padded ones; the stream then moves on by the real outputs only (mask kind "rng_count"), so later
    runs draw what TF's would. Padded along any other axis, the real values would move: exact shapes."""
    shape = op._inputs[0]
    _no_padded_inputs(op, facts, range(1, len(op._inputs)))
    target = facts.values.get(shape)
    if target is None or shape in facts.tainted:
        raise Unpaddable(f"{op.type}: a shape computed from data")
    dims = list(target.reshape(-1))
    if any(isinstance(v, Sym) for v in dims[1:]):
        raise Unpaddable(f"{op.type} padded along an axis after its first: its real values would move")
    facts.masked[op] = ("rng_count", {0: target})
    _set(facts, op._outputs[0], tuple(v if isinstance(v, Sym) else None for v in dims))


def _select(op, facts: _Facts) -> None:
    _elementwise(op, facts)


def _batch_axis_only(op, facts: _Facts) -> None:
    """NHWC pooling: the batch axis may be padded, nothing else."""
    x = _axes(facts, op._inputs[0])
    if x is None or any(s is not None for s in x[1:]):
        raise Unpaddable(f"{op.type}: a padded spatial or channel axis")
    _no_padded_inputs(op, facts, which=list(range(1, len(op._inputs))))
    rank = op._outputs[0].shape.ndims
    if rank is None:
        raise Unpaddable(f"{op.type}: output rank unknown")
    _set(facts, op._outputs[0], (x[0],) + (None,) * (rank - 1))


def _convolution(op, facts: _Facts) -> None:
    """Conv2D / DepthwiseConv2dNative: a padded batch axis as pooling's; a padded spatial axis (conv1d over
    time steps, a fully convolutional layer over images of any size) where its output is as long as its
    input (SAME, stride 1): its padded entries are zeroed first (kind "zero"), as SAME's own padding past the
    true end is, so every real output reads what the exact run reads."""
    x = _axes(facts, op._inputs[0])
    if x is None or len(x) != 4 or op._outputs[0].shape.ndims not in (None, 4):
        raise Unpaddable(f"{op.type}: input rank other than 4")
    _no_padded_inputs(op, facts, which=list(range(1, len(op._inputs))))
    spatial, channel = ((2, 3), 1) if _str_attr(op, "data_format", "NHWC").startswith("NC") else ((1, 2), 3)
    if x[channel] is not None:
        raise Unpaddable(f"{op.type}: a padded channel axis")
    padded = {a: x[a] for a in spatial if x[a] is not None}
    if padded:
        padding = _str_attr(op, "padding", "")
        strides = list(op.attrs.get("strides", [1, 1, 1, 1]))
        if padding != "SAME" or any(strides[a] != 1 for a in padded):
            raise Unpaddable(f"{op.type}: a padded spatial axis with {padding} padding or a stride")
        facts.masked[op] = ("zero", {0: padded})
    _set(facts, op._outputs[0], x)


# TF's fused RNN kernels (lowering/rules/rnn.py): {op type: {input index: its batch axis}}; every other input is
# a weight (or seq_len_max). BlockLSTM's x is time-major: its axis 0 is time.
_FUSED_RNN_BATCH = {"LSTMBlockCell": {0: 0, 1: 0, 2: 0}, "GRUBlockCell": {0: 0, 1: 0},
                    "BlockLSTM": {1: 1, 2: 0, 3: 0}, "BlockLSTMV2": {1: 1, 2: 0, 3: 0}}


def _fused_rnn(op, facts: _Facts) -> None:
    """LSTMBlockCell, GRUBlockCell, BlockLSTM(V2): batch rows are independent (their custom VJP gives a padded
    row's zero cotangents zero weight gradients), so the batch axis may be padded. BlockLSTM's time axis may
    be padded when seq_len_max is that padded size itself (a shape value: its rule reads the true size and
    stops there, as the exact run's steps do); a seq_len_max of another origin is checked against the time
    length, which a padded run would not see, so that graph runs exact."""
    batch_inputs = _FUSED_RNN_BATCH[op.type]
    sequence = op.type.startswith("BlockLSTM")
    first_weight = 0 if not sequence else 1
    _no_padded_inputs(op, facts, which=[i for i in range(first_weight, len(op._inputs)) if i not in batch_inputs])
    batch, time = [], None
    for i, axis in batch_inputs.items():
        axes = _axes(facts, op._inputs[i])
        if axes is None or facts.symbolic(op._inputs[i]):
            raise Unpaddable(f"{op.type}: an input of unknown rank, or shape values as data")
        free = {axis, 0} if sequence and i == 1 else {axis}
        if any(s is not None for k, s in enumerate(axes) if k not in free):
            raise Unpaddable(f"{op.type}: a padded feature axis")
        batch.append(axes[axis])
        if sequence and i == 1:
            time = axes[0]
    if any(s is None for s in batch) and any(s is not None for s in batch):
        raise Unpaddable(f"{op.type}: a padded batch meets an unpadded one")
    for other in batch[1:]:
        if other is not None:
            _unify(batch[0], other)
    if sequence:
        seq_len_max = op._inputs[0]
        if facts.symbolic(seq_len_max):
            facts.masked[op] = ("true_values", {0: facts.values[seq_len_max]})
            facts.tainted.update(op._outputs)
        elif time is not None:
            raise Unpaddable(f"{op.type}: seq_len_max is not the padded time length")
        elif facts.padded(seq_len_max):
            raise Unpaddable(f"{op.type}: a padded seq_len_max")
    out = (time, batch[0], None) if sequence else (batch[0], None)
    for t in op._outputs:
        _set(facts, t, out)


def _no_padded(op, facts: _Facts) -> None:
    """State writes and other ops that must see exact shapes (their outputs carry no padding)."""
    _no_padded_inputs(op, facts)


def _symbolic_gradient(op, facts: _Facts) -> None:
    """The gradient's forward function is re-traced by its rule from the op's inputs: analyse its ops
    too (their masked rules then serve the re-trace), and give each gradient its argument's padding.
    The gradient of gathered rows (a sparse x's argument, a gather's output) has zero padded rows: the
    masked forward gives padded rows zero cotangents."""
    fn = op.graph._get_function(op.attrs["f"].name) if "f" in op.attrs else None
    if fn is None:
        raise Unpaddable("SymbolicGradient without its forward function")
    if fn.gradient_overrides:
        raise Unpaddable("a gradient the user chose (its ops are not analysed)")
    for fop in fn.ops:
        _step(fop, facts)
    # The seeds (one dy per y: TF's Fill(Shape(y), 1), or the given grad_ys) are as padded as their y: their
    # padded rows are ones or fed padding, and would reach every weight gradient (a contraction over the
    # padded axis) as if they were rows of the batch. Zero them (kind "zero_inputs"), so padded rows get
    # zero cotangents from the start.
    n_args = len(fn.captures)
    seeds = {}
    for k, (y, dy) in enumerate(zip(fn.outputs, op._inputs[n_args:])):
        y_axes, dy_axes = _axes(facts, y), _axes(facts, dy)
        if facts.symbolic(dy) or dy in facts.iota:
            raise Unpaddable("a gradient seeded with padded sizes")
        if not facts.padded(y) and not facts.padded(dy):
            continue
        if y_axes is None or dy_axes is None or len(y_axes) != len(dy_axes):
            raise Unpaddable("a gradient seed of unknown or other rank than its y")
        for a, b in zip(y_axes, dy_axes):
            if (a is None) != (b is None):
                raise Unpaddable("a gradient seed padded differently from its y")
            if a is not None:
                _unify(a, b)  # TF requires dy's shape to be y's: a mismatch runs exact and fails there
        seeds[n_args + k] = {a: s for a, s in enumerate(dy_axes) if s is not None}
    if seeds:
        facts.masked[op] = ("zero_inputs", seeds)
    for arg, grad in zip(fn.captures, op._outputs):
        if facts.symbolic(arg):
            # its consumers in f read it with true sizes substituted (constants to jax.vjp): the padded run's
            # gradient with respect to it would be zero
            facts.untrue.add(grad)
            continue
        axes = facts.of(arg)
        if axes is None:
            continue
        if arg.op.type in ("Gather", "GatherV2", "ResourceGather") and any(s is not None for s in axes):
            if any(s is not None for s in axes[1:]) or len(_axes(facts, arg.op._inputs[1]) or ()) != 1:
                raise Unpaddable("sparse gradient rows padded other than along one id axis")
            facts.zero_rows.add(grad)
        _set(facts, grad, axes)


def _scatter_of_gradient_rows(op, facts: _Facts) -> None:
    """Sparse updates (SGD's ScatterSub, the SparseApply* family) of gradient rows: padded ids repeat real
    ids and their rows are zero (the loss masked them), so they change nothing; anything else is refused."""
    zero_rows = facts.zero_rows
    at = _indices_input(op)
    index_axes = _axes(facts, op._inputs[at]) if at >= 0 else None
    for i, t in enumerate(op._inputs):
        if not facts.padded(t):
            continue
        if i == at:
            continue
        if not (t in zero_rows or _scaled_zero_rows(t, zero_rows, facts)):
            raise Unpaddable(f"{op.type} writes padded rows")
        # TF requires the indices' shape to be the rows' leading shape: the same sizes, so the same symbols
        # (different true sizes then run exact and raise TF's error there, not hidden in one bucket)
        rows = _axes(facts, t)
        if index_axes is None or rows is None or len(rows) < len(index_axes):
            raise Unpaddable(f"{op.type}: rows of unknown rank or fewer axes than their indices")
        for a, b in zip(index_axes, rows):
            if (a is None) != (b is None):
                raise Unpaddable(f"{op.type}: indices and rows padded differently")
            if a is not None:
                _unify(a, b)


def _indices_input(op) -> int:
    names = [a.name for a in _op_def(op).inputs]
    return names.index("indices") if "indices" in names else -1


def _op_def(op):
    from graphcompat.framework.registry import OP_DEFS
    return OP_DEFS[op.type]


def _scaled_zero_rows(t, zero_rows, facts) -> bool:
    """`lr * grad_rows` (a Mul of zero rows by an unpadded scalar) keeps padded rows zero."""
    if t.op.type in ("Mul", "Neg", "Identity", "Cast"):
        ins = [x for x in t.op._inputs if facts.padded(x)]
        return len(ins) == 1 and (ins[0] in zero_rows or _scaled_zero_rows(ins[0], zero_rows, facts))
    return False


# ------------------------------------------------------------------------------------------------
# Loops and TensorArrays (tf.while_loop, and what TF builds on it: dynamic_rnn, map_fn, scan …)
# ------------------------------------------------------------------------------------------------
def _range(op, facts: _Facts) -> None:
    """`range(0, n)` of a padded size n (TensorArray unstack/stack indices): an iota along a padded axis."""
    start, limit, delta = op._inputs
    if any(facts.padded(t) for t in op._inputs) or facts.symbolic(start) or facts.symbolic(delta):
        raise Unpaddable("Range over padded values")
    value = facts.values.get(limit)
    if _const_ints(start) != [0] or _const_ints(delta) != [1] or value is None or value.size != 1 \
            or not isinstance(value.reshape(-1)[0], Sym):
        raise Unpaddable("Range whose length is computed from padded sizes")
    sym = value.reshape(-1)[0]
    _set(facts, op._outputs[0], (sym,))
    facts.iota[op._outputs[0]] = sym


def _rank(op, facts: _Facts) -> None:
    """Rank does not see sizes."""


def _assert(op, facts: _Facts) -> None:
    """tf.Assert: its condition must be a true value; its data only shows in the message, which a failed
    padded run never shows (it is re-run at exact shapes to raise TF's error)."""
    cond = op._inputs[0]
    if facts.padded(cond) or facts.symbolic(cond):
        raise Unpaddable("Assert on a padded condition")


def _expand_dims_of_values(op, facts: _Facts) -> None:
    x = op._inputs[0]
    if x in facts.values and not facts.padded(x):
        axis = _const_ints(op._inputs[1])
        if axis is None:
            raise Unpaddable("ExpandDims along a run-time axis")
        value = facts.values[x]
        facts.values[op._outputs[0]] = np.expand_dims(value, axis[0] % (value.ndim + 1))
        return
    _expand_dims(op, facts)


def _select_rows(op, facts: _Facts) -> None:
    """TF1's Select: a vector condition picks rows (dim 0) of higher-rank data; otherwise element-wise."""
    cond, x, y = op._inputs
    c = _axes(facts, cond)
    if op.type == "Select" and c is not None and len(c) == 1 and x.shape.ndims is not None and x.shape.ndims > 1:
        if any(facts.symbolic(t) for t in op._inputs):
            raise Unpaddable("Select of rows of shape values")
        data = _broadcast_equal(op, facts, [x, y])
        if (c[0] is None) != (data[0] is None):
            raise Unpaddable("Select: a padded condition picks rows of unpadded data")
        if c[0] is not None:
            _unify(c[0], data[0])
        if facts.symbolic(cond):
            raise Unpaddable("Select on a shape value")
        _set(facts, op._outputs[0], data)
        return
    _elementwise(op, facts)


def _reverse_sequence(op, facts: _Facts) -> None:
    """ReverseSequence reverses each row's first seq_lengths[b] steps and leaves the rest: along a padded
    sequence axis the real steps stay real as long as seq_lengths <= the true length, which its masked
    rule checks against the true size (kind "seq_bound") as TF's kernel checks it against the axis."""
    x, lengths = op._inputs
    axes = _axes(facts, x)
    seq_dim, batch_dim = int(op.attrs["seq_dim"]), int(op.attrs.get("batch_dim", 0))
    if axes is None or facts.symbolic(lengths) or lengths in facts.tainted or lengths in facts.iota:
        raise Unpaddable("ReverseSequence of unknown rank or over computed lengths")
    rows = _axes(facts, lengths)
    if rows is None or len(rows) != 1 or (rows[0] is None) != (axes[batch_dim] is None):
        raise Unpaddable("ReverseSequence: padded rows meet unpadded lengths")
    if rows[0] is not None:
        _unify(rows[0], axes[batch_dim])
    _set(facts, op._outputs[0], axes)
    if axes[seq_dim] is not None:
        facts.masked[op] = ("seq_bound", {0: {seq_dim: axes[seq_dim]}})


def _array_entry(facts: _Facts, handle) -> list:
    if handle.op.type != "TensorArrayV3" or handle.value_index != 0:
        raise Unpaddable("a TensorArray handle that is not its TensorArrayV3's")
    if handle.op.attrs.get("dynamic_size"):
        raise Unpaddable("a dynamic_size TensorArray (grows at run time)")
    return facts.arrays.setdefault(handle, [None, None])


def _merge_elements(entry: list, axes) -> None:
    if axes is None:
        raise Unpaddable("a TensorArray element of unknown rank")
    if entry[1] is None:
        entry[1] = tuple(axes)
        return
    if len(entry[1]) != len(axes):
        raise Unpaddable("TensorArray elements of different ranks")
    for a, b in zip(entry[1], axes):
        if (a is None) != (b is None):
            raise Unpaddable("TensorArray elements padded differently")
        if a is not None:
            _unify(a, b)


def _elements(entry: list, op) -> tuple:
    if entry[1] is not None:
        return entry[1]
    rank = op._outputs[0].shape.ndims
    if rank is None:
        raise Unpaddable("TensorArray read of unknown rank")
    return (None,) * (rank - (1 if op.type == "TensorArrayGatherV3" else 0))


def _plain_index(op, facts: _Facts, t) -> None:
    if facts.padded(t) or facts.symbolic(t) or t in facts.iota:
        raise Unpaddable(f"{op.type}: an index computed from padded sizes")


def _check_true_size(op, facts: _Facts, entry: list) -> None:
    """An index below the padded size but not below the true one would not fail as TF's does: check it
    against the true size (kind "ta_index")."""
    if entry[0] is not None:
        facts.masked[op] = ("ta_index", {0: {0: entry[0]}})


def _tensor_array(op, facts: _Facts) -> None:
    size = op._inputs[0]
    if facts.padded(size) or size in facts.tainted:
        raise Unpaddable("a TensorArray sized by a padded or computed value")
    entry = _array_entry(facts, op._outputs[0])
    if facts.symbolic(size):
        value = facts.values[size].reshape(-1)
        if value.size != 1 or not isinstance(value[0], Sym):
            raise Unpaddable("a TensorArray sized by arithmetic on padded sizes")
        if entry[0] is None:
            entry[0] = value[0]
        else:
            _unify(entry[0], value[0])


def _tensor_array_write(op, facts: _Facts) -> None:
    handle, index, value, _ = op._inputs
    entry = _array_entry(facts, handle)
    _plain_index(op, facts, index)
    _merge_elements(entry, _axes(facts, value))
    _check_true_size(op, facts, entry)


def _tensor_array_scatter(op, facts: _Facts) -> None:
    handle, indices, value, _ = op._inputs
    entry = _array_entry(facts, handle)
    axes = _axes(facts, value)
    if axes is None or not axes:
        raise Unpaddable("TensorArray scatter of unknown rank")
    if indices in facts.iota:  # range(0, n) into an array of size n: padded rows land in padded slots
        if entry[0] is None or axes[0] is None:
            raise Unpaddable("a padded range scattered into an unpadded TensorArray")
        _unify(entry[0], facts.iota[indices])
        _unify(entry[0], axes[0])
    else:
        _plain_index(op, facts, indices)
        if axes[0] is not None:
            raise Unpaddable("padded rows scattered to unpadded indices")
        _check_true_size(op, facts, entry)
    _merge_elements(entry, axes[1:])


def _tensor_array_read(op, facts: _Facts) -> None:
    handle, index, _ = op._inputs
    entry = _array_entry(facts, handle)
    _plain_index(op, facts, index)
    _set(facts, op._outputs[0], _elements(entry, op))
    _check_true_size(op, facts, entry)


def _tensor_array_gather(op, facts: _Facts) -> None:
    handle, indices, _ = op._inputs
    entry = _array_entry(facts, handle)
    elements = _elements(entry, op)
    if indices in facts.iota:
        if entry[0] is None:
            raise Unpaddable("a padded range gathered from an unpadded TensorArray")
        _unify(entry[0], facts.iota[indices])
        _set(facts, op._outputs[0], (entry[0],) + tuple(elements))
        # stack(): slots past the true size are never written by a loop that stops there (zeros). Padded rows
        # must be edge copies of real rows, as the feeds' are (kind "edge_gather": indices capped at the
        # true size - 1), or they are no longer finite where the real rows are (log(0) in a padded row,
        # times its zero cotangent in a weight gradient, is NaN)
        facts.masked[op] = ("edge_gather", {0: {0: entry[0]}})
        return
    _plain_index(op, facts, indices)
    _set(facts, op._outputs[0], (None,) + tuple(elements))
    _check_true_size(op, facts, entry)


def _tensor_array_size(op, facts: _Facts) -> None:
    entry = _array_entry(facts, op._inputs[0])
    if entry[0] is not None:
        value = np.empty((), dtype=object)
        value[()] = entry[0]
        facts.values[op._outputs[0]] = value


def _array_snapshot(facts: _Facts) -> dict:
    return {h: (e[0] is not None, None if e[1] is None else tuple(a is not None for a in e[1]))
            for h, e in facts.arrays.items()}


def _while(op, facts: _Facts) -> None:
    """A While loop: its cond and body are analysed with the loop variables' facts until they settle
    (a variable keeps its padded axes across iterations; TensorArray elements a later iteration reads are
    known). The loop must run exactly as many iterations as unpadded: its cond must compute a true value,
    and a `maximum_iterations` that is a padded size is masked (kind "loop_bound"): the loop stops at the
    true size, while the padded size stays the static length of the differentiable scan."""
    graph = op.graph
    cond_g = graph._get_function(op.attrs["cond"].name) if "cond" in op.attrs else None
    body_g = graph._get_function(op.attrs["body"].name) if "body" in op.attrs else None
    if cond_g is None or body_g is None:
        raise Unpaddable("While without its functions")
    n = len(body_g.params)
    counter, max_iter = op._inputs[0], op._inputs[1]
    vars0, captures = op._inputs[2:2 + n], op._inputs[2 + n:]
    if facts.padded(counter) or facts.symbolic(counter) or facts.padded(max_iter) or max_iter in facts.tainted:
        raise Unpaddable("While with a padded counter or a maximum computed from true sizes")
    max_sym = None
    if facts.symbolic(max_iter):
        value = facts.values[max_iter].reshape(-1)
        if value.size != 1 or not isinstance(value[0], Sym):
            raise Unpaddable("While whose maximum is arithmetic on padded sizes")
        max_sym = value[0]
    if any(facts.symbolic(t) or t in facts.iota for t in vars0):
        raise Unpaddable("a loop variable carries padded sizes")
    param_axes = [facts.of(t) for t in vars0]
    param_taint = [t in facts.tainted for t in vars0]
    for _ in range(8):
        before = _array_snapshot(facts)
        for params in (cond_g.params, body_g.params):
            for p, axes, taint in zip(params, param_axes, param_taint):
                if axes is not None:
                    facts.axes[p] = axes
                if taint:
                    facts.tainted.add(p)
        for fop in body_g.ops:
            _step(fop, facts)
        for fop in cond_g.ops:
            _step(fop, facts)
        changed = _array_snapshot(facts) != before
        for k, out in enumerate(body_g.outputs):
            if facts.symbolic(out) or out in facts.iota:
                raise Unpaddable("a loop variable becomes a padded size")
            got, have = facts.of(out), param_axes[k]
            if got is not None or have is not None:
                rank = len(got if got is not None else have)
                got, have = got or (None,) * rank, have or (None,) * rank
                if len(got) != len(have):
                    raise Unpaddable("a loop variable changes rank")
                for a, b in zip(got, have):
                    if (a is None) != (b is None):
                        raise Unpaddable("a loop variable's padding changes in the loop")
                    if a is not None:
                        _unify(a, b)
            if out in facts.tainted and not param_taint[k]:
                param_taint[k] = changed = True
        if not changed:
            break
    else:
        raise Unpaddable("While: the loop's facts do not settle")
    go = cond_g.outputs[0]
    if facts.padded(go) or facts.symbolic(go):
        raise Unpaddable("While whose condition reads padded sizes or rows")
    outs = op._outputs
    if max_sym is not None:
        facts.masked[op] = ("loop_bound", {1: {0: max_sym}})
        facts.tainted.update(outs[:2])
    for t, axes, taint in zip(outs[2:2 + n], param_axes, param_taint):
        _set(facts, t, axes)
        if taint:
            facts.tainted.add(t)
    for t, src in zip(outs[2 + n:], captures):
        _set(facts, t, facts.of(src))
        if src in facts.values:
            facts.values[t] = facts.values[src]
        if src in facts.tainted:
            facts.tainted.add(t)



_ELEMENTWISE = (
    "AddV2 Add Sub Mul RealDiv Div DivNoNan FloorDiv FloorMod TruncateDiv TruncateMod Maximum Minimum Pow "
    "SquaredDifference Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot Atan2 "
    "Neg Abs Sign Square Sqrt Rsqrt Exp Expm1 Log Log1p Sin Cos Tan Asin Acos Atan Sinh Cosh Tanh Sigmoid Erf Erfc "
    "Round Floor Ceil Rint Reciprocal IsFinite IsNan IsInf Relu Relu6 Elu Selu Softplus Softsign LeakyRelu "
    "ZerosLike OnesLike ClipByValue Lgamma Digamma BitwiseAnd BitwiseOr BitwiseXor Invert").split()

RULES: dict = {}
for _name in _ELEMENTWISE:
    RULES[_name] = _elementwise
RULES.update({
    "Identity": _identity, "StopGradient": _identity, "PreventGradient": _identity, "Snapshot": _identity,
    "Cast": _cast, "MatMul": _matmul, "BatchMatMul": _batch_matmul, "BatchMatMulV2": _batch_matmul,
    "BatchMatMulV3": _batch_matmul, "BiasAdd": _last_axis_free, "Softmax": _softmax, "LogSoftmax": _softmax,
    "Tile": _tile,
    "SoftmaxCrossEntropyWithLogits": _xent, "SparseSoftmaxCrossEntropyWithLogits": _xent,
    "Reshape": _reshape, "Shape": _shape, "ShapeN": _shape, "StridedSlice": _strided_slice,
    "Pack": _pack, "ConcatV2": _concat, "Transpose": _transpose, "Squeeze": _squeeze,
    "GatherV2": _gather, "Gather": _gather, "OneHot": _one_hot, "Fill": _fill, "SelectV2": _select,
    "Conv2D": _convolution, "DepthwiseConv2dNative": _convolution,
    "MaxPool": _batch_axis_only, "AvgPool": _batch_axis_only, "SymbolicGradient": _symbolic_gradient,
    "ScatterAdd": _scatter_of_gradient_rows, "ScatterSub": _scatter_of_gradient_rows,
    "NoOp": lambda op, facts: None, "Split": _split, "SplitV": _split,
    "Range": _range, "Rank": _rank, "ReverseSequence": _reverse_sequence, "Assert": _assert, "ExpandDims": _expand_dims_of_values,
    "Select": _select_rows, "While": _while, "StatelessWhile": _while, "TensorArrayV3": _tensor_array,
    "TensorArrayWriteV3": _tensor_array_write, "TensorArrayScatterV3": _tensor_array_scatter,
    "TensorArrayReadV3": _tensor_array_read, "TensorArrayGatherV3": _tensor_array_gather,
    "TensorArraySizeV3": _tensor_array_size, "TensorArrayCloseV3": lambda op, facts: None,
})
for _name in _RANDOM_DRAWS:
    RULES[_name] = _random_draw
for _name in _FUSED_RNN_BATCH:
    RULES[_name] = _fused_rnn
for _name in _REDUCTION_IDENTITY:
    RULES[_name] = _reduction
# Rules that read shape values as numbers by substituting the true sizes themselves (mask kind "true_values")
_TRUE_VALUE_RULES = (_elementwise, _select, _select_rows, _reduction, _fused_rnn)
# Dense optimizer updates: a gradient that is not padded (a weight's) holds the exact run's values, even
# where they were computed from true sizes (a loop that stopped at the true length, a mean's count).
for _name in ("Adadelta", "Adagrad", "AdagradDA", "Adam", "CenteredRMSProp", "Ftrl", "FtrlV2", "GradientDescent", "Momentum",
              "ProximalAdagrad", "ProximalGradientDescent", "RMSProp", "AdagradV2", "AdaMax", "AddSign", "PowerSign"):
    RULES["Apply" + _name] = RULES["ResourceApply" + _name] = _no_padded
for _name in ("ResourceApplyKerasMomentum", "ResourceApplyAdamWithAmsgrad"):  # no ref-variable forms in TF
    RULES[_name] = _no_padded
for _name in ("SparseApplyGradientDescent", "SparseApplyMomentum", "SparseApplyAdagrad", "SparseApplyAdadelta",
              "SparseApplyRMSProp", "SparseApplyCenteredRMSProp", "SparseApplyFtrl", "SparseApplyFtrlV2",
              "SparseApplyProximalGradientDescent", "SparseApplyProximalAdagrad", "SparseApplyAdagradDA"):
    RULES[_name] = _scatter_of_gradient_rows


# ------------------------------------------------------------------------------------------------
# Running padded
# ------------------------------------------------------------------------------------------------
class Buckets:
    """Bucket sizes for open dimensions: powers of two, at least `minimum`."""

    def __init__(self, minimum: int = 64):
        self.minimum = minimum

    def size(self, n: int) -> int:
        return 1 << max(int(n) - 1, self.minimum - 1, 0).bit_length()


def true_sizes(pad: Pad, feed_values: Sequence) -> Optional[list]:
    """Each symbol's true size in this run, or None when the feeds disagree about one (the exact run then
    raises TF's error) or a size is 0 (nothing to repeat as padding)."""
    sizes: list = [0 if i in pad.computed else None for i in range(len(pad.symbols))]
    for value, axes in zip(feed_values, pad.feed_axes):
        shape = np.shape(value)
        for axis, sym in axes:
            n = shape[axis] if axis < len(shape) else None
            if n is None or n == 0 or (sizes[sym] is not None and sizes[sym] != n):
                return None
            sizes[sym] = n
    for i, (a, b) in pad.flat.items():
        if sizes[a] is not None and sizes[b] is not None:
            sizes[i] = sizes[a] * sizes[b]
    return sizes if all(n is not None for n in sizes) else None


def padded_sizes(pad: Pad, feed_values: Sequence) -> list:
    """Each symbol's padded size, read off the (padded) feeds' static shapes; None where no feed has it."""
    out: list = [None] * len(pad.symbols)
    for value, axes in zip(feed_values, pad.feed_axes):
        for axis, sym in axes:
            out[sym] = np.shape(value)[axis]
    return out


def bind_sizes(sizes_cell: list, pad: Pad, sizes, feed_values: Sequence) -> None:
    """What the masked rules of one traced padded run read (`masked_rule`, `_mask`): `sizes_cell[0]` the true
    sizes (traced), `sizes_cell[1]` the padded sizes off the feeds' shapes and the flattened axes."""
    sizes_cell[0] = sizes
    sizes_cell[1] = (padded_sizes(pad, feed_values), pad.flat)


def pad_feeds(pad: Pad, feed_values: Sequence, buckets: list) -> list:
    """Feeds padded to the buckets by repeating their last real row along each padded axis."""
    out = []
    for value, axes in zip(feed_values, pad.feed_axes):
        if axes:
            arr = np.asarray(value)
            widths = [(0, 0)] * arr.ndim
            for axis, sym in axes:
                widths[axis] = (0, buckets[sym] - arr.shape[axis])
            if any(w[1] for w in widths):
                arr = np.pad(arr, widths, mode="edge")
            value = arr
        out.append(value)
    return out


def cut_fetches(pad: Pad, fetched: Sequence, sizes: list) -> list:
    """Fetched values cut back to the true sizes; symbolic shape values replaced by the true ones."""
    out = []
    for value, axes, shape_value in zip(fetched, pad.fetch_axes, pad.fetch_values):
        if shape_value is not None:
            value = np.asarray([sizes[v[1]] if isinstance(v, tuple) else v for v in shape_value.reshape(-1)],
                               dtype=np.asarray(value).dtype).reshape(shape_value.shape)
        elif axes:
            arr = np.asarray(value)
            index = [slice(None)] * arr.ndim
            for axis, sym in axes:
                index[axis] = slice(0, sizes[sym])
            value = arr[tuple(index)]
        out.append(value)
    return out


# ------------------------------------------------------------------------------------------------
# Masked rules: what runs in place of an op the analysis marked
# ------------------------------------------------------------------------------------------------
def masked_rule(op, rule, kind: str, spec: dict, sizes_cell: list):
    """A Rule for `op` that masks its padded input (or substitutes true sizes), reading this run's true
    sizes from `sizes_cell[0]` (a traced int array, one entry per symbol)."""
    import jax.numpy as jnp
    from lowering.registry import Rule

    if kind == "true_values":
        def fn(*args, **attrs):
            sizes = sizes_cell[0]
            args = list(args)
            for i, value in spec.items():
                dtype = jnp.result_type(args[i])
                flat = [sizes[v[1]] if isinstance(v, tuple) else v for v in value.reshape(-1)]
                args[i] = jnp.reshape(jnp.stack([jnp.asarray(v).astype(dtype) for v in flat]), value.shape)
            return rule.fn(*args, **attrs)
        return Rule(fn)

    if kind == "rng_count":  # a random draw of a padded batch: TF's stream moves on by the real outputs only
        value = spec[0]

        def draw_fn(ctx, draw_op, *args):
            sizes = sizes_cell[0]
            count = jnp.asarray(1, jnp.uint64)
            for v in value.reshape(-1):
                count = count * (sizes[v[1]].astype(jnp.uint64) if isinstance(v, tuple) else jnp.uint64(v))
            return rule.fn(ctx, draw_op, *args, count=count)
        return Rule(draw_fn, context=True, host=rule.host)

    if kind == "loop_bound":  # a While stops at the true size; the padded size is its scan's length
        (max_sym,) = spec[1].values()

        def loop_fn(ctx, loop_op, counter, max_iter, *rest):
            return rule.fn(ctx, loop_op, counter, sizes_cell[0][max_sym], *rest, scan_length=max_iter)
        return Rule(loop_fn, context=True, host=rule.host)

    if kind == "ta_index":  # TensorArray indices checked against the array's true size
        (size_sym,) = spec[0].values()

        def index_fn(ctx, ta_op, *args):
            return rule.fn(ctx, ta_op, *args, true_size=sizes_cell[0][size_sym])
        return Rule(index_fn, context=True)

    if kind == "edge_gather":  # stack() of a TensorArray of padded size: padded slots repeat the last real one
        (size_sym,) = spec[0].values()

        def edge_fn(ctx, ta_op, handle, indices, flow):
            n = sizes_cell[0][size_sym]
            capped = jnp.minimum(jnp.asarray(indices), (n - 1).astype(jnp.result_type(indices)))
            # only the first n slots are reads (TF's clear_after_read marks): the rest are padding
            return rule.fn(ctx, ta_op, handle, capped, flow, true_size=n, real=n)
        return Rule(edge_fn, context=True)

    if kind == "row_ids":  # tf.where of a 1-D mask in the step: ids padded to the mask's length
        from lowering.interpreter import CapacityExceeded, require
        (rows_sym,) = spec[-1].values()
        mask_axes = spec[0]

        def rows_fn(x, **attrs):
            keep = jnp.reshape(x, (-1,)) != 0
            if mask_axes:  # the padded mask's padded entries select nothing
                keep = keep & _mask(keep, mask_axes, sizes_cell)
            length = keep.shape[0]
            count = jnp.sum(keep, dtype=jnp.int32)
            ids = jnp.nonzero(keep, size=length, fill_value=0)[0]
            ids = jnp.where(jnp.arange(length) < count, ids, ids[jnp.maximum(count - 1, 0)])
            sizes = sizes_cell[0]
            sizes_cell[0] = sizes.at[rows_sym].set(count.astype(sizes.dtype))
            # no row selected: the padding would repeat a row the mask left out (a -1 label, a log of 0),
            # whose checks or gradients are not TF's; the executor re-runs such a step op by op
            require(count > 0, CapacityExceeded, "tf.where selected no rows: no real row to pad with")
            return jnp.reshape(ids.astype(jnp.int64), (length, 1))
        return Rule(rows_fn)

    if kind == "zero_inputs":  # a gradient's seeds, a contraction's factors: padded entries contribute nothing
        offset = 2 if rule.context else 0  # a context rule's inputs follow (ctx, op)

        def zero_fn(*args, **attrs):
            args = list(args)
            for i, axes in spec.items():
                x = args[offset + i]
                args[offset + i] = jnp.where(_mask(x, axes, sizes_cell), x, jnp.zeros((), jnp.result_type(x)))
            return rule.fn(*args, **attrs)
        return Rule(zero_fn, context=rule.context, host=rule.host)

    if kind == "last_index":  # x[-1] along a padded axis: the row at the true size - 1
        def last_fn(x, *rest, **attrs):
            from jax import lax
            sizes = sizes_cell[0]
            for axis, sym in spec[0].items():  # a window of that one row: x[-1] of it is the row
                x = lax.dynamic_slice_in_dim(x, sizes[sym] - 1, 1, axis)
            return rule.fn(x, *rest, **attrs)
        return Rule(last_fn)

    if kind == "softmax":  # normalized over the real entries of the padded last axis
        def softmax_fn(x, **attrs):
            from jax import lax
            x = jnp.asarray(x)
            if not jnp.issubdtype(x.dtype, jnp.floating):
                return rule.fn(x, **attrs)  # the exact rule raises TF's error for this dtype
            real = _mask(x, spec[0], sizes_cell)
            # as jax.nn.softmax computes it, over the real entries; a padded entry is shifted by 0 (exp 1, so
            # it stays finite as padding must, whatever the graph put there)
            x_max = lax.stop_gradient(jnp.max(jnp.where(real, x, -jnp.inf), axis=-1, keepdims=True))
            shifted = jnp.where(real, x, x_max) - x_max
            unnormalized = jnp.exp(shifted)
            total = jnp.sum(jnp.where(real, unnormalized, jnp.zeros((), x.dtype)), axis=-1, keepdims=True)
            if op.type == "LogSoftmax":
                return shifted - jnp.log(total)
            return unnormalized / total
        return Rule(softmax_fn)

    if kind == "seq_bound":  # ReverseSequence's lengths may not pass the true (unpadded) sequence length
        ((seq_dim, seq_sym),) = spec[0].items()

        def seq_fn(x, lengths, **attrs):
            from graphcompat.framework import errors
            from lowering.interpreter import require
            require(jnp.all(jnp.asarray(lengths) <= sizes_cell[0][seq_sym]), errors.InvalidArgumentError,
                    f"seq_lens exceeds input.dims({seq_dim})")
            return rule.fn(x, lengths, **attrs)
        return Rule(seq_fn)

    axes = spec[0]

    def mask_of(x):
        return _mask(x, axes, sizes_cell)

    if kind == "mean":
        def fn(x, idx, *, keep_dims=False, **attrs):
            from lowering.rules.math import _axes as reduced_axes
            sizes = sizes_cell[0]
            dtype = jnp.result_type(x)
            reduced = reduced_axes(x, idx)
            # as the exact rule (lowering/rules/math.py: mean): integers are summed as jnp.sum sums them and
            # divided toward zero (TF's integer mean), float16/bfloat16 accumulate in float32 (jnp.mean);
            # the result is in x's dtype either way
            wide = jnp.float32 if dtype in (jnp.float16, jnp.bfloat16) else None
            total = jnp.sum(jnp.where(mask_of(x), x, jnp.zeros((), dtype)), axis=reduced, keepdims=keep_dims,
                            dtype=wide)
            count = jnp.asarray(1, jnp.int64)
            for a in reduced:
                count = count * (sizes[axes[a]].astype(jnp.int64) if a in axes else jnp.shape(x)[a])
            if jnp.issubdtype(dtype, jnp.integer):
                from jax import lax
                return lax.div(total, jnp.maximum(count, 1).astype(total.dtype)).astype(dtype)
            return (total / count.astype(total.dtype)).astype(dtype)
        return Rule(fn)

    def fn(x, *rest, **attrs):
        dtype = jnp.result_type(x)
        return rule.fn(jnp.where(mask_of(x), x, _fill_value(kind, dtype)), *rest, **attrs)
    return Rule(fn)


def _mask(x, axes: dict, sizes_cell: list):
    """True at `x`'s real entries: below the true size along each padded axis ({axis: symbol index}); along
    a flattened [n1, n2] axis, entry i is (i // padded n2, i % padded n2), real where both are below their
    true sizes. `sizes_cell`: [true sizes (traced), (padded sizes, Pad.flat)]."""
    import jax.numpy as jnp
    sizes, (padded, flat) = sizes_cell[0], sizes_cell[1]
    mask = None
    for axis, sym in axes.items():
        shape = [1] * jnp.ndim(x)
        shape[axis] = jnp.shape(x)[axis]
        i = jnp.arange(jnp.shape(x)[axis])
        if sym in flat:
            first, second = flat[sym]
            m = (i // padded[second] < sizes[first]) & (i % padded[second] < sizes[second])
        else:
            m = i < sizes[sym]
        m = jnp.reshape(m, shape)
        mask = m if mask is None else mask & m
    return mask


def _fill_value(kind: str, dtype):
    import jax.numpy as jnp
    if kind in ("zero", "false"):
        return jnp.zeros((), dtype)
    if kind in ("one", "true"):
        return jnp.ones((), dtype)
    if jnp.issubdtype(dtype, jnp.floating):
        return jnp.asarray(-jnp.inf if kind == "low" else jnp.inf, dtype)
    if jnp.issubdtype(dtype, jnp.integer):
        info = jnp.iinfo(dtype)
        return jnp.asarray(info.min if kind == "low" else info.max, dtype)
    return jnp.asarray(kind != "low", dtype)
