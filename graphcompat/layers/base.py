"""`tf.layers.Layer`: TF1's variable-scoped layers (tf_keras legacy_tf_layers/base.py semantics).

A layer takes its variable scope on first call (`dense`, `dense_1`, … uniquified in the enclosing
variable scope, or exactly `name` when the functional form is given one), creates its variables
there with `get_variable` (so `reuse` and `AUTO_REUSE` work as in TF1), and puts later calls' ops
in the same name scope. Updates (batch-norm moving averages) go to `UPDATE_OPS`; regularization
losses to `REGULARIZATION_LOSSES`.
"""
from __future__ import annotations

import re
from typing import Optional

import sys as _sys

import graphcompat.variable_scope  # noqa: F401  (the module; `graphcompat.variable_scope` is the class)
from graphcompat.framework import dtypes as _dt
from graphcompat.framework import ops as _ops
from graphcompat.framework.constant_op import convert_to_tensor

_vs = _sys.modules["graphcompat.variable_scope"]


def _to_snake_case(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class InputSpec:
    """The rank/axes constraints a layer puts on its input (`tf.layers.InputSpec`)."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype, self.shape, self.ndim = dtype, shape, ndim
        self.max_ndim, self.min_ndim, self.axes = max_ndim, min_ndim, axes or {}


class Layer:
    """Base class of `tf.layers.*`: variable scope on first call, `build` once, `call` each time."""

    def __init__(self, trainable: bool = True, name: Optional[str] = None, dtype=None, _scope=None,
                 _reuse=None, **kwargs):
        self.trainable = trainable
        self._name_arg = name
        self._base_name = name or _to_snake_case(type(self).__name__)
        self._scope = None
        self._explicit_scope = _scope
        self._reuse = _reuse
        self.dtype = _dt.as_dtype(dtype) if dtype is not None else None
        self.built = False
        self.input_spec: Optional[InputSpec] = None
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._updates: list = []
        self._losses: list = []
        self._name_scope_name: Optional[str] = None
        self.activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise TypeError(f"Keyword argument not understood: {next(iter(kwargs))}")

    # --- properties -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._scope.name.split("/")[-1] if self._scope is not None else self._base_name

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer \"" + self._base_name +
                             "\" has not been used yet. The scope name  is determined the first time the "
                             "layer instance is called. You must therefore call the layer before querying "
                             "`scope_name`.")
        return self._scope.name

    @property
    def trainable_weights(self) -> list:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    @property
    def updates(self) -> list:
        return list(self._updates)

    @property
    def losses(self) -> list:
        return list(self._losses)

    # --- variables ------------------------------------------------------------------------------
    def add_weight(self, name: str, shape, dtype=None, initializer=None, regularizer=None, trainable=None,
                   constraint=None, **kwargs):
        """A variable `<scope>/<name>` via `get_variable` in the layer's scope."""
        dtype = _dt.as_dtype(dtype or self.dtype or _dt.float32)
        trainable = self.trainable if trainable is None else trainable
        var = _vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer, trainable=trainable,
                               constraint=constraint)
        if trainable:
            if var not in self._trainable_weights:
                self._trainable_weights.append(var)
        elif var not in self._non_trainable_weights:
            self._non_trainable_weights.append(var)
        # tf.train.Checkpoint tracks the weight under its add_weight name (graphcompat/training/tracking.py)
        self.__dict__.setdefault("_gc_weight_names", {}).setdefault(id(var), name)
        if self.__dict__.get("_gc_deferred_dependencies"):  # a tf.train.Checkpoint restore waits for it
            from graphcompat.training import tracking
            tracking.dependency_added(self, name, var)
        if regularizer is not None and not self._already_regularized(var):
            with _ops.name_scope(var.op.name + "/Regularizer/"):
                loss = regularizer(var)
            if loss is not None:
                self._losses.append(loss)
                _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, loss)
        return var

    @staticmethod
    def _already_regularized(var) -> bool:
        prefix = var.op.name + "/Regularizer/"
        return any(getattr(t, "name", "").startswith(prefix)
                   for t in _ops.get_collection(_ops.GraphKeys.REGULARIZATION_LOSSES))

    def add_update(self, updates, inputs=None) -> None:
        updates = updates if isinstance(updates, (list, tuple)) else [updates]
        self._updates.extend(updates)

    def add_loss(self, losses, inputs=None) -> None:
        losses = losses if isinstance(losses, (list, tuple)) else [losses]
        self._losses.extend(losses)
        for loss in losses:
            _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, loss)

    # --- calling --------------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _set_scope(self, scope=None) -> None:
        if self._scope is not None:
            return
        scope = scope if scope is not None else self._explicit_scope
        if self._reuse:
            with _vs.variable_scope(scope if scope is not None else self._base_name) as captured:
                self._scope = captured
        else:
            with _vs.variable_scope(scope, default_name=self._base_name) as captured:
                self._scope = captured
        self._name_scope_name = captured.original_name_scope

    def __call__(self, inputs, *args, **kwargs):
        scope = kwargs.pop("scope", None)
        self._set_scope(scope)
        reuse = True if self.built else self._reuse
        n_updates = len(self._updates)
        with _vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
            with _ops.name_scope(self._name_scope_name):
                if not self.built:
                    shapes = _nest_shapes(inputs)
                    self._check_input(inputs)
                    self.build(shapes)
                    self.built = True
                outputs = self.call(inputs, *args, **kwargs)
                if self.activity_regularizer is not None:
                    with _ops.name_scope("ActivityRegularizer"):
                        self.add_loss(self.activity_regularizer(outputs))
        for update in self._updates[n_updates:]:
            _ops.add_to_collection(_ops.GraphKeys.UPDATE_OPS, update)
        return outputs

    def apply(self, inputs, *args, **kwargs):
        return self.__call__(inputs, *args, **kwargs)

    def _check_input(self, inputs) -> None:
        spec = self.input_spec
        if spec is None or isinstance(inputs, (list, tuple)):
            return
        x = convert_to_tensor(inputs)
        ndim = x.shape.ndims
        if ndim is None:
            return
        if spec.ndim is not None and ndim != spec.ndim:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"ndim={spec.ndim}, found ndim={ndim}. Full shape received: {tuple(x.shape.as_list())}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: "
                             f"{tuple(x.shape.as_list())}")


def _nest_shapes(inputs):
    if isinstance(inputs, (list, tuple)):
        return [_nest_shapes(x) for x in inputs]
    return convert_to_tensor(inputs).shape
