"""`tf.saved_model` (TF1's API: `tf.compat.v1.saved_model`): SavedModelBuilder, loader, signatures.

TF's on-disk format both ways: a SavedModel written here (saved_model.pb + variables/ + assets/) loads in
TensorFlow, and one written by TensorFlow (builder or simple_save) loads and runs here. TF2's
object-based `tf.saved_model.save` / `load_v2` (SavedObjectGraph, restored tf.functions) are not part
of the TF1 API graphcompat implements.
"""
from graphcompat.saved_model import (builder, constants, loader, main_op, signature_constants,  # noqa: F401
                                     signature_def_utils, tag_constants, utils)
from graphcompat.saved_model.builder import Builder  # noqa: F401
from graphcompat.saved_model.constants import (ASSETS_DIRECTORY, ASSETS_KEY, DEBUG_DIRECTORY,  # noqa: F401
                                               DEBUG_INFO_FILENAME_PB, LEGACY_INIT_OP_KEY, MAIN_OP_KEY,
                                               SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT,
                                               SAVED_MODEL_SCHEMA_VERSION, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
from graphcompat.saved_model.loader import contains_saved_model, load, maybe_saved_model_directory  # noqa: F401
from graphcompat.saved_model.main_op import main_op_with_restore  # noqa: F401
from graphcompat.saved_model.signature_constants import (CLASSIFY_INPUTS, CLASSIFY_METHOD_NAME,  # noqa: F401
                                                         CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES,
                                                         DEFAULT_SERVING_SIGNATURE_DEF_KEY, PREDICT_INPUTS,
                                                         PREDICT_METHOD_NAME, PREDICT_OUTPUTS, REGRESS_INPUTS,
                                                         REGRESS_METHOD_NAME, REGRESS_OUTPUTS)
from graphcompat.saved_model.signature_def_utils import (build_signature_def,  # noqa: F401
                                                         classification_signature_def, is_valid_signature,
                                                         predict_signature_def, regression_signature_def)
from graphcompat.saved_model.tag_constants import GPU, SERVING, TPU, TRAINING  # noqa: F401
from graphcompat.saved_model.utils import build_tensor_info, get_tensor_from_tensor_info  # noqa: F401


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None) -> None:
    """`tf.saved_model.simple_save`: one 'serve' MetaGraphDef with a predict signature, devices cleared."""
    from graphcompat.framework import ops as _ops
    signature_def_map = {DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict_signature_def(inputs, outputs)}
    b = builder.SavedModelBuilder(export_dir)
    b.add_meta_graph_and_variables(session, tags=[SERVING], signature_def_map=signature_def_map,
                                   assets_collection=_ops.get_collection(_ops.GraphKeys.ASSET_FILEPATHS),
                                   main_op=legacy_init_op, clear_devices=True)
    b.save()


def _tf2_only(symbol: str):
    def unsupported(*args, **kwargs):
        raise NotImplementedError(f"tf.saved_model.{symbol} (TF2's object-based SavedModel API) is not implemented "
                                  "by graphcompat: use tf.saved_model.builder / loader (TF1's API)")
    unsupported.__name__ = symbol
    return unsupported


save = _tf2_only("save")
load_v2 = _tf2_only("load_v2")


Asset = _tf2_only("Asset")
SaveOptions = _tf2_only("SaveOptions")


def __getattr__(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)
