"""`tf.saved_model.signature_def_utils`: SignatureDefs for serving (predict, classify, regress)."""
from __future__ import annotations

from graphcompat.framework import dtypes as _dt
from graphcompat.framework import errors
from graphcompat.framework import ops as _ops
from graphcompat.saved_model import signature_constants
from graphcompat.saved_model import utils

_STRING, _FLOAT = _dt.string.as_datatype_enum, _dt.float32.as_datatype_enum


def build_signature_def(inputs=None, outputs=None, method_name=None, defaults=None):
    """`tf.saved_model.build_signature_def`: a SignatureDef from {key: TensorInfo} maps."""
    from tensorboard.compat.proto import meta_graph_pb2
    signature_def = meta_graph_pb2.SignatureDef()
    for item in inputs or {}:
        signature_def.inputs[item].CopyFrom(inputs[item])
    for item in outputs or {}:
        signature_def.outputs[item].CopyFrom(outputs[item])
    if method_name is not None:
        signature_def.method_name = method_name
    for arg_name, default in (defaults or {}).items():
        if not isinstance(default, _ops.Tensor) or default.op.type != "Const":
            raise ValueError(f"Unable to convert object {default!s} of type {type(default)} to TensorProto.")
        signature_def.defaults[arg_name].CopyFrom(default.op.get_attr("value"))
    return signature_def


def regression_signature_def(examples, predictions):
    """`tf.saved_model.regression_signature_def`: string examples in, float predictions out."""
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if not isinstance(examples, _ops.Tensor):
        raise ValueError(f"Expected regression `examples` to be of type Tensor. Found `examples` of type "
                         f"{type(examples)}.")
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    inputs = utils.build_tensor_info(examples)
    if inputs.dtype != _STRING:
        raise ValueError(f"Regression input tensors must be of type string. Found tensors with type {inputs.dtype}.")
    outputs = utils.build_tensor_info(predictions)
    if outputs.dtype != _FLOAT:
        raise ValueError(f"Regression output tensors must be of type float. Found tensors with type "
                         f"{outputs.dtype}.")
    return build_signature_def({signature_constants.REGRESS_INPUTS: inputs},
                               {signature_constants.REGRESS_OUTPUTS: outputs},
                               signature_constants.REGRESS_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """`tf.saved_model.classification_signature_def`: string examples in; string classes and/or float scores."""
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if not isinstance(examples, _ops.Tensor):
        raise ValueError(f"Classification `examples` must be a string Tensor. Found `examples` of type "
                         f"{type(examples)}.")
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    inputs = utils.build_tensor_info(examples)
    if inputs.dtype != _STRING:
        raise ValueError(f"Classification input tensors must be of type string. Found tensors of type "
                         f"{inputs.dtype}")
    outputs = {}
    if classes is not None:
        info = utils.build_tensor_info(classes)
        if info.dtype != _STRING:
            raise ValueError(f"Classification classes must be of type string Tensor. Found tensors of type "
                             f"{info.dtype}.`")
        outputs[signature_constants.CLASSIFY_OUTPUT_CLASSES] = info
    if scores is not None:
        info = utils.build_tensor_info(scores)
        if info.dtype != _FLOAT:
            raise ValueError("Classification scores must be a float Tensor.")
        outputs[signature_constants.CLASSIFY_OUTPUT_SCORES] = info
    return build_signature_def({signature_constants.CLASSIFY_INPUTS: inputs}, outputs,
                               signature_constants.CLASSIFY_METHOD_NAME)


def predict_signature_def(inputs, outputs):
    """`tf.saved_model.predict_signature_def`: any named inputs and outputs."""
    if not inputs:
        raise ValueError("Prediction `inputs` cannot be None or empty.")
    if not outputs:
        raise ValueError("Prediction `outputs` cannot be None or empty.")
    return build_signature_def({k: utils.build_tensor_info(t) for k, t in inputs.items()},
                               {k: utils.build_tensor_info(t) for k, t in outputs.items()},
                               signature_constants.PREDICT_METHOD_NAME)


def supervised_train_signature_def(inputs, loss, predictions=None, metrics=None):
    return _supervised(signature_constants.SUPERVISED_TRAIN_METHOD_NAME, inputs, loss, predictions, metrics)


def supervised_eval_signature_def(inputs, loss, predictions=None, metrics=None):
    return _supervised(signature_constants.SUPERVISED_EVAL_METHOD_NAME, inputs, loss, predictions, metrics)


def _supervised(method_name, inputs, loss, predictions, metrics):
    if not inputs:
        raise ValueError(f"{method_name} `inputs` cannot be None or empty.")
    outputs = {}
    for group in (loss, predictions, metrics):
        outputs.update({k: utils.build_tensor_info(t) for k, t in (group or {}).items()})
    return build_signature_def({k: utils.build_tensor_info(t) for k, t in inputs.items()}, outputs, method_name)


def is_valid_signature(signature_def) -> bool:
    """`tf.saved_model.is_valid_signature`: whether TF Serving can serve it (classify, regress or predict)."""
    if signature_def is None:
        return False
    return _valid_classification(signature_def) or _valid_regression(signature_def) or _valid_predict(signature_def)


def _valid_predict(s) -> bool:
    return s.method_name == signature_constants.PREDICT_METHOD_NAME and bool(s.inputs) and bool(s.outputs)


def _valid_regression(s) -> bool:
    c = signature_constants
    return (s.method_name == c.REGRESS_METHOD_NAME and set(s.inputs) == {c.REGRESS_INPUTS}
            and s.inputs[c.REGRESS_INPUTS].dtype == _STRING and set(s.outputs) == {c.REGRESS_OUTPUTS}
            and s.outputs[c.REGRESS_OUTPUTS].dtype == _FLOAT)


def _valid_classification(s) -> bool:
    c = signature_constants
    if s.method_name != c.CLASSIFY_METHOD_NAME or set(s.inputs) != {c.CLASSIFY_INPUTS}:
        return False
    if s.inputs[c.CLASSIFY_INPUTS].dtype != _STRING or not s.outputs:
        return False
    if set(s.outputs) - {c.CLASSIFY_OUTPUT_CLASSES, c.CLASSIFY_OUTPUT_SCORES}:
        return False
    if c.CLASSIFY_OUTPUT_CLASSES in s.outputs and s.outputs[c.CLASSIFY_OUTPUT_CLASSES].dtype != _STRING:
        return False
    return not (c.CLASSIFY_OUTPUT_SCORES in s.outputs and s.outputs[c.CLASSIFY_OUTPUT_SCORES].dtype != _FLOAT)


def op_signature_def(op, key):
    """A SignatureDef whose single output names `op` (how TF stores init/train ops)."""
    return build_signature_def(outputs={key: utils.build_tensor_info_from_op(op)})


def load_op_from_signature_def(signature_def, key, import_scope=None):
    """The op an `op_signature_def` names, in the default graph."""
    try:
        return utils.get_element_from_tensor_info(signature_def.outputs[key], import_scope=import_scope)
    except KeyError:
        raise errors.NotFoundError(
            None, None, f'The key "{key}" could not be found in the graph. Please make sure the SavedModel was '
            "created by the internal _SavedModelBuilder. If you are using the public API, please make sure the "
            f'SignatureDef in the SavedModel does not contain the key "{key}".') from None
