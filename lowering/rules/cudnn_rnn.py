"""Lowering of TF's cuDNN RNN ops (graphcompat/ops/cudnn_rnn_ops.py): core/kernels/cudnn_rnn_ops.cc's kernels,
with cuDNN's math and parameter layout written in JAX.

The opaque parameter buffer is cuDNN's: for each layer and, within it, each direction (a "pseudo layer"), its
weight matrices then its bias vectors. A pseudo layer of a mode with `g` gates (LSTM 4: i, f, c, o; GRU 3:
r, z, h; RNN 1) holds `g` input matrices [num_units, width] (width: input_size in layer 0, else num_units
times the directions), `g` recurrent matrices [num_units, num_units], then `g` input and `g` recurrent biases
[num_units]; each matrix row-major. CudnnRNNParamsToCanonical lists the same regions in the same order (all
weights, then all biases), so canonical weights and the buffer convert by slicing and concatenating.

    LSTM:  [i, f, c~, o] = act(W x + b_W + R h + b_R);  c' = f * c + i * c~;  h' = o * tanh(c')
    GRU:   r, z = sigmoid(W_rz x + b_Wrz + R_rz h + b_Rrz)
           h~ = tanh(W_h x + b_Wh + r * (R_h h + b_Rh))     cuDNN's "reset after" form
           h' = (1 - z) * h~ + z * h
    RNN:   h' = tanh / relu(W x + b_W + R h + b_R)

Each layer and direction is one `lax.scan` over time (the input projections of every step are one matmul
before it); a bidirectional layer concatenates both directions' outputs [fw, bw] as the next layer's input.
CudnnRNNV3's `sequence_lengths` stop each batch entry after its length: later outputs are zeros, the state
stays that of its last step, and the backward direction starts at that step. Dropout (is_training and
dropout > 0) applies to each layer's output that feeds another layer, scaled by 1 / (1 - dropout); the masks
are drawn from the op's seeds (not cuDNN's generator: TF's own numbers cannot be reproduced) and travel in
`reserve_space`, so the Backprop kernels use the forward pass's masks. half and bfloat16 compute in float32,
as TF's kernel does for bfloat16.

The Backprop kernels are the exact derivative (cuDNN's backward pass), so they are `jax.vjp` of the same
forward function; TF's kernels do not check that the buffer has the model's size (cuDNN reads what the
descriptor says): a mismatch is refused here with a text of graphcompat's.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from lowering.interpreter import NeedsConcreteValues
from lowering.registry import lowers
from lowering.rules.checks import invalid

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


class Model(NamedTuple):
    """What fixes the buffer's layout."""
    rnn_mode: str
    num_layers: int
    num_units: int
    input_size: int
    num_dirs: int

    @property
    def gates(self) -> int:
        return GATES[self.rnn_mode]

    def width(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_units * self.num_dirs

    def regions(self) -> tuple:
        """([(offset, (rows, cols))] of every weight, [(offset, size)] of every bias, total size), in
        ParamsToCanonical's order: layer by layer, direction by direction, gate by gate."""
        weights, biases, offset = [], [], 0
        units, gates = self.num_units, self.gates
        for layer in range(self.num_layers):
            for _ in range(self.num_dirs):
                for k in range(2 * gates):
                    shape = (units, self.width(layer) if k < gates else units)
                    weights.append((offset, shape))
                    offset += shape[0] * shape[1]
                for _ in range(2 * gates):
                    biases.append((offset, units))
                    offset += units
        return weights, biases, offset

    @property
    def size(self) -> int:
        return self.regions()[2]


def _refuse_unsupported(op_type: str, model: Model, input_mode: str, num_proj: int = 0) -> None:
    if num_proj:
        raise NotImplementedError(f"{op_type} with num_proj={num_proj} (LSTM projections) is not implemented in "
                                  "graphcompat")
    if input_mode == "skip_input" or (input_mode == "auto_select" and model.input_size == model.num_units):
        raise NotImplementedError(f"{op_type} with input_mode '{input_mode}' (cuDNN's skip input, no input "
                                  "matrices in the first layer) is not implemented in graphcompat")


def _compute_dtype(dtype):
    return jnp.float32 if dtype in (jnp.float16, jnp.bfloat16) else dtype


def _gemm(a, b):
    return jnp.matmul(a, b, preferred_element_type=a.dtype, precision=lax.Precision.HIGHEST)


# --- the buffer ---------------------------------------------------------------------------------------------
def _pseudo_layer(params, model: Model, layer: int, direction: int) -> tuple:
    """(W [g*units, width], R [g*units, units], b_W [g*units], b_R [g*units]) of one layer and direction."""
    weights, biases, _ = model.regions()
    gates = model.gates
    first = (layer * model.num_dirs + direction) * 2 * gates
    mats = [params[o:o + r * c].reshape(r, c) for o, (r, c) in weights[first:first + 2 * gates]]
    vecs = [params[o:o + n] for o, n in biases[first:first + 2 * gates]]
    return (jnp.concatenate(mats[:gates], axis=0), jnp.concatenate(mats[gates:], axis=0),
            jnp.concatenate(vecs[:gates]), jnp.concatenate(vecs[gates:]))


# --- one layer, one direction -------------------------------------------------------------------------------
def _step(rnn_mode: str, units: int):
    def lstm(state, projected, r, b_r):
        h, c = state
        gates = projected + _gemm(h, r.T) + b_r
        i, f, g, o = (gates[:, k * units:(k + 1) * units] for k in range(4))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c

    def gru(state, projected, r, b_r):
        h, c = state
        recurrent = _gemm(h, r.T) + b_r
        reset = jax.nn.sigmoid(projected[:, :units] + recurrent[:, :units])
        update = jax.nn.sigmoid(projected[:, units:2 * units] + recurrent[:, units:2 * units])
        candidate = jnp.tanh(projected[:, 2 * units:] + reset * recurrent[:, 2 * units:])
        return (1 - update) * candidate + update * h, c

    def simple(activation):
        def rnn(state, projected, r, b_r):
            h, c = state
            return activation(projected + _gemm(h, r.T) + b_r), c
        return rnn

    return {"lstm": lstm, "gru": gru, "rnn_tanh": simple(jnp.tanh), "rnn_relu": simple(jax.nn.relu)}[rnn_mode]


def _reverse_within(x, lengths):
    """Each batch entry's first `lengths[b]` steps reversed (tf.reverse_sequence on time-major x); the rest
    stay in place. Without lengths, the whole time axis."""
    if lengths is None:
        return x[::-1]
    steps = jnp.arange(x.shape[0])[:, None]
    index = jnp.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)
    return jnp.take_along_axis(x, index[:, :, None], axis=0)


def _run_direction(x, h0, c0, weights, rnn_mode: str, lengths):
    """(outputs [time, batch, units], h, c) of one pseudo layer over the time-major x (the backward direction
    gets its input reversed within each length, and reverses its outputs back)."""
    w, r, b_w, b_r = weights
    units = h0.shape[-1]
    step = _step(rnn_mode, units)
    projected = _gemm(x, w.T) + b_w
    steps = jnp.arange(x.shape[0])

    def body(state, inputs):
        t, projected_t = inputs
        h, c = step(state, projected_t, r, b_r)
        if lengths is None:
            return (h, c), h
        running = (t < lengths)[:, None]
        state = (jnp.where(running, h, state[0]), jnp.where(running, c, state[1]))
        return state, jnp.where(running, h, jnp.zeros_like(h))

    (h, c), outputs = lax.scan(body, (h0, c0), (steps, projected))
    return outputs, h, c


def _dropout_masks(key, model: Model, time: int, batch: int, dropout: float, dtype):
    """The scaled keep masks of the inputs of layers 1 .. num_layers - 1, [layers - 1, time, batch, width]."""
    keep = 1.0 - dropout
    shape = (model.num_layers - 1, time, batch, model.num_units * model.num_dirs)
    if keep <= 0.0:
        return jnp.zeros(shape, dtype)
    kept = jax.random.bernoulli(key, keep, shape)
    return jnp.where(kept, jnp.asarray(1.0 / keep, dtype), jnp.zeros((), dtype))


def forward(x, h0, c0, params, model: Model, lengths=None, masks=None) -> tuple:
    """(output [time, batch, dirs*units], h [layers*dirs, batch, units], c like h) of the time-major x."""
    hs, cs = [], []
    layer_input = x
    dirs = model.num_dirs
    for layer in range(model.num_layers):
        if layer and masks is not None:
            layer_input = layer_input * masks[layer - 1]
        first = layer * dirs
        if dirs == 1:
            out, h, c = _run_direction(layer_input, h0[first], c0[first], _pseudo_layer(params, model, layer, 0),
                                       model.rnn_mode, lengths)
            hs.append(h[None])
            cs.append(c[None])
            layer_input = out
            continue
        # Both directions of a layer have the same shapes: one scan over them (vmapped), half the compile.
        weights = [_pseudo_layer(params, model, layer, d) for d in range(dirs)]
        stacked = tuple(jnp.stack(parts) for parts in zip(*weights))
        inputs = jnp.stack([layer_input, _reverse_within(layer_input, lengths)])
        out, h, c = jax.vmap(lambda x, h, c, w: _run_direction(x, h, c, w, model.rnn_mode, lengths))(
            inputs, h0[first:first + dirs], c0[first:first + dirs], stacked)
        hs.append(h)
        cs.append(c)
        layer_input = jnp.concatenate([out[0], _reverse_within(out[1], lengths)], axis=-1)
    return layer_input, jnp.concatenate(hs), jnp.concatenate(cs)


# --- the kernels' checks (ExtractForwardInput), static: shapes are known while tracing --------------------
def _shape_text(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


class _Call(NamedTuple):
    model: Model
    time_major: bool
    lstm: bool


def _check_forward(op, x, h, c, params, time_major: bool) -> _Call:
    attrs = op.attrs
    rnn_mode = _text(attrs["rnn_mode"])
    num_dirs = 2 if _text(attrs["direction"]) == "bidirectional" else 1
    lstm = rnn_mode == "lstm"
    if jnp.ndim(x) != 3:
        raise invalid("RNN input must be a 3-D vector.")
    batch = jnp.shape(x)[1 if time_major else 0]
    input_size = jnp.shape(x)[2]
    if jnp.ndim(h) != 3:
        raise invalid("RNN input_h must be a 3-D vector.")
    num_layers = jnp.shape(h)[0 if time_major else 1] // num_dirs
    num_units = jnp.shape(h)[2]
    expected = ((num_dirs * num_layers, batch, num_units) if time_major
                else (batch, num_dirs * num_layers, num_units))
    if tuple(jnp.shape(h)) != expected:
        raise invalid(f"Invalid input_h shape: {_shape_text(jnp.shape(h))} {_shape_text(expected)}")
    if lstm and tuple(jnp.shape(h)) != tuple(jnp.shape(c)):
        raise invalid(f"input_h and input_c must have the same shape w/o projection: {_shape_text(jnp.shape(h))} "
                      f"{_shape_text(jnp.shape(c))}")
    model = Model(rnn_mode, int(num_layers), int(num_units), int(input_size), num_dirs)
    _refuse_unsupported(op.type, model, _text(attrs["input_mode"]), int(attrs.get("num_proj", 0)))
    if jnp.ndim(params) != 1 or jnp.shape(params)[0] != model.size:
        raise invalid(f"params must be a vector of {model.size} elements for this model (layers {num_layers}, "
                      f"units {num_units}, input size {input_size}, {num_dirs} direction(s)), got shape "
                      f"{_shape_text(jnp.shape(params))}")
    if num_layers == 0 or num_units == 0:
        raise invalid(f"Invalid input_h shape: {_shape_text(jnp.shape(h))} {_shape_text(expected)}")
    return _Call(model, time_major, lstm)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _to_time_major(call: _Call, x, h, c):
    if call.time_major:
        return x, h, c
    return jnp.swapaxes(x, 0, 1), jnp.swapaxes(h, 0, 1), (jnp.swapaxes(c, 0, 1) if call.lstm else c)


def _from_time_major(call: _Call, output, h, c):
    if call.time_major:
        return output, h, c
    return jnp.swapaxes(output, 0, 1), jnp.swapaxes(h, 0, 1), (jnp.swapaxes(c, 0, 1) if call.lstm else c)


def _check_lengths(lengths, batch: int):
    if jnp.ndim(lengths) != 1 or jnp.shape(lengths)[0] != batch:
        raise invalid(f"sequence_lengths must be a vector of the batch size {batch}, got shape "
                      f"{_shape_text(jnp.shape(lengths))}")


def _differentiable(call: _Call, lengths, masks, dtype):
    """The op's math as f(x, h, c, params) -> (output, h, c) in the op's layouts and dtype."""
    model = call.model
    compute = _compute_dtype(dtype)

    def f(x, h, c, params):
        x, h, c = _to_time_major(call, x, h, c)
        c_in = c if call.lstm else jnp.zeros_like(h)
        output, h_out, c_out = forward(x.astype(compute), h.astype(compute), c_in.astype(compute),
                                       params.astype(compute), model, lengths,
                                       None if masks is None else masks.astype(compute))
        output, h_out, c_out = _from_time_major(call, output, h_out, c_out)
        c_out = c_out.astype(dtype) if call.lstm else jnp.zeros((), dtype)  # TF's kernel: a dummy scalar
        return output.astype(dtype), h_out.astype(dtype), c_out
    return f


# --- forward kernels ----------------------------------------------------------------------------------------
def _forward_rule(version: int):
    def rule(ctx, op, x, h, c, params, lengths=None):
        time_major = bool(op.attrs.get("time_major", True))
        call = _check_forward(op, x, h, c, params, time_major)
        if lengths is not None:
            _check_lengths(lengths, jnp.shape(x)[1 if time_major else 0])
            lengths = jnp.asarray(lengths, jnp.int32)
        model = call.model
        dtype = x.dtype
        training = bool(op.attrs["is_training"])
        dropout = float(op.attrs["dropout"])
        time, batch = (jnp.shape(x)[0], jnp.shape(x)[1]) if time_major else (jnp.shape(x)[1], jnp.shape(x)[0])
        masks = None
        if training and dropout > 0.0 and model.num_layers > 1:
            # one draw per run, the same for a gradient's re-trace of this run
            masks = _dropout_masks(ctx.random_key(op, per_run=True), model, time, batch, dropout,
                                   _compute_dtype(dtype))
        output, h_out, c_out = _differentiable(call, lengths, masks, dtype)(x, h, c, params)
        if not training:
            reserve = jnp.zeros((), dtype)  # TF's kernel: a dummy scalar when not training
        elif masks is None:
            reserve = jnp.zeros((0,), dtype)
        else:
            reserve = masks.reshape(-1).astype(dtype)
        outputs = (output, h_out, c_out, reserve)
        return outputs if version == 1 else outputs + (jnp.zeros((0,), jnp.int8),)
    return rule


lowers("CudnnRNN", context=True)(_forward_rule(1))
lowers("CudnnRNNV2", context=True)(_forward_rule(2))
lowers("CudnnRNNV3", context=True)(_forward_rule(3))


# --- backward kernels ---------------------------------------------------------------------------------------
def _backprop_rule(version: int):
    def rule(ctx, op, *inputs):
        if version == 3:
            x, h, c, params, lengths = inputs[:5]
            rest = inputs[5:]
        else:
            (x, h, c, params), lengths, rest = inputs[:4], None, inputs[4:]
        _, _, _, d_output, d_h, d_c, reserve = rest[:7]
        time_major = bool(op.attrs.get("time_major", True))
        call = _check_forward(op, x, h, c, params, time_major)
        model = call.model
        if lengths is not None:
            _check_lengths(lengths, jnp.shape(x)[1 if time_major else 0])
            lengths = jnp.asarray(lengths, jnp.int32)
        time, batch = (jnp.shape(x)[0], jnp.shape(x)[1]) if time_major else (jnp.shape(x)[1], jnp.shape(x)[0])
        masks = None
        mask_shape = (model.num_layers - 1, time, batch, model.num_units * model.num_dirs)
        if float(op.attrs["dropout"]) > 0.0 and model.num_layers > 1:
            if jnp.size(reserve) != int(np.prod(mask_shape)):
                raise invalid("reserve_space does not come from a training run of this model's CudnnRNN")
            masks = jnp.reshape(reserve, mask_shape).astype(_compute_dtype(x.dtype))
        f = _differentiable(call, lengths, masks, x.dtype)
        _, pullback = jax.vjp(f, x, h, c, params)
        d_c_in = d_c if call.lstm else jnp.zeros((), x.dtype)
        dx, dh, dc, dparams = pullback((d_output, d_h, d_c_in))
        return dx, dh, dc if call.lstm else jnp.zeros_like(c), dparams
    return rule


lowers("CudnnRNNBackprop", context=True)(_backprop_rule(1))
lowers("CudnnRNNBackpropV2", context=True)(_backprop_rule(2))
lowers("CudnnRNNBackpropV3", context=True)(_backprop_rule(3))


# --- params size and canonical conversions (CudnnRNNParamsSizeOp, ParamsToCanonical, CanonicalToParams) -----
def _static_int(value, what: str) -> int:
    if np.ndim(value) != 0:
        raise invalid(f"{what} is not a scalar")
    try:
        return int(np.asarray(value))
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise NeedsConcreteValues(f"{what} must be known while the graph is traced") from None


def _model_of(op, num_layers, num_units, input_size) -> Model:
    model = Model(_text(op.attrs["rnn_mode"]), _static_int(num_layers, "num_layers"),
                  _static_int(num_units, "num_units"), _static_int(input_size, "input_size"),
                  2 if _text(op.attrs["direction"]) == "bidirectional" else 1)
    _refuse_unsupported(op.type, model, _text(op.attrs["input_mode"]), int(op.attrs.get("num_proj", 0)))
    return model


@lowers("CudnnRNNParamsSize", context=True)
def cudnn_rnn_params_size(ctx, op, num_layers, num_units, input_size):
    model = _model_of(op, num_layers, num_units, input_size)
    return jnp.asarray([model.size], op.attrs["S"].as_numpy_dtype)


def _counts(op, model: Model) -> tuple:
    weights = int(op.attrs.get("num_params", op.attrs.get("num_params_weights", 0)))
    biases = int(op.attrs.get("num_params", op.attrs.get("num_params_biases", 0)))
    layers_dirs = model.num_layers * model.num_dirs
    # The kernel's checks, in its order and with its texts (the missing spaces are TF's).
    if weights % layers_dirs:
        raise invalid("Number of params (weights) is not a multipleof num_layers * num_dirs.")
    if biases % layers_dirs:
        raise invalid("Number of params (biases) is not a multipleof num_layers * num_dirs.")
    if (weights // layers_dirs) % 2:
        raise invalid("Number of params (weights) per layer is not an even number with no projection.")
    expected = len(model.regions()[0])
    if weights != expected:
        raise invalid(f"C Number of params mismatch. Expected {weights}, got {expected}")
    if biases != expected:
        raise invalid(f"A Number of params mismatch. Expected {biases}, got {expected}")
    return weights, biases


def _to_canonical(ctx, op, num_layers, num_units, input_size, params):
    model = _model_of(op, num_layers, num_units, input_size)
    _counts(op, model)
    weights, biases, size = model.regions()
    if jnp.ndim(params) != 1 or jnp.shape(params)[0] < size:
        raise invalid(f"params must be a vector of at least {size} elements for this model, got shape "
                      f"{_shape_text(jnp.shape(params))}")
    return tuple([params[o:o + r * c].reshape(r, c) for o, (r, c) in weights] + [params[o:o + n] for o, n in biases])


def _to_params(ctx, op, num_layers, num_units, input_size, *canonicals):
    model = _model_of(op, num_layers, num_units, input_size)
    regions, bias_regions, _ = model.regions()
    count = int(op.attrs.get("num_params", op.attrs.get("num_params_weights", 0)))
    weights, biases = canonicals[:count], canonicals[count:]
    # RestoreParams' CHECKs (a crash in TF): the lists and each tensor must match the model's regions.
    if len(weights) != len(regions) or len(biases) != len(bias_regions):
        raise invalid(f"Number of params mismatch. Expected {len(weights)}, got {len(regions)}")
    pieces = []
    layer_regions = 2 * model.gates
    for p in range(model.num_layers * model.num_dirs):
        for (_, (r, c)), w in zip(regions[p * layer_regions:(p + 1) * layer_regions],
                                  weights[p * layer_regions:(p + 1) * layer_regions]):
            if jnp.size(w) != r * c:
                raise invalid(f"Params size mismatch. Expected {r * c}, got {jnp.size(w)}")
            pieces.append(jnp.reshape(w, (-1,)))
        for (_, n), b in zip(bias_regions[p * layer_regions:(p + 1) * layer_regions],
                             biases[p * layer_regions:(p + 1) * layer_regions]):
            if jnp.size(b) != n:
                raise invalid(f"Params size mismatch. Expected {n}, got {jnp.size(b)}")
            pieces.append(jnp.reshape(b, (-1,)))
    return jnp.concatenate(pieces)


lowers("CudnnRNNParamsToCanonical", "CudnnRNNParamsToCanonicalV2", context=True)(_to_canonical)
lowers("CudnnRNNCanonicalToParams", "CudnnRNNCanonicalToParamsV2", context=True)(_to_params)

__all__ = ["GATES", "Model", "forward"]
