"""`tf.train.warm_start` and `tf.train.VocabInfo` (TF's warm_starting_util.py): variables' initializers
load their values from another checkpoint (through `tf.train.init_from_checkpoint`), optionally under a
different name in that checkpoint.
"""
from __future__ import annotations

import collections

from graphcompat import tf_logging as logging
from graphcompat import variables as _variables
from graphcompat.framework import ops as _ops


class VocabInfo(collections.namedtuple("VocabInfo", ["new_vocab", "new_vocab_size", "num_oov_buckets", "old_vocab",
                                                     "old_vocab_size", "backup_initializer", "axis"])):
    """`tf.train.VocabInfo(new_vocab, new_vocab_size, num_oov_buckets, old_vocab, old_vocab_size=-1,
    backup_initializer=None, axis=0)`: how to remap an embedding's rows between vocabularies.
    graphcompat accepts it but `warm_start` with vocabulary remapping raises NotImplementedError."""

    def __new__(cls, new_vocab, new_vocab_size, num_oov_buckets, old_vocab, old_vocab_size=-1,
                backup_initializer=None, axis=0):
        if axis not in (0, 1):
            raise ValueError(f"The only supported values for the axis argument are 0 and 1.  Provided axis: {axis}")
        return super().__new__(cls, new_vocab, new_vocab_size, num_oov_buckets, old_vocab, old_vocab_size,
                               backup_initializer, axis)


def _is_variable(v) -> bool:
    return isinstance(v, _variables.Variable)


def _infer_var_name(var_list) -> str:
    from graphcompat.training.saver import op_list_to_dict
    names = op_list_to_dict(var_list)
    if len(names) > 1:
        raise TypeError(f"`var` = {var_list} passed as arg violates the constraints.  name_to_var_dict = {names}")
    return list(names.keys())[0]


def _get_grouped_variables(vars_to_warm_start) -> dict:
    if isinstance(vars_to_warm_start, str) or vars_to_warm_start is None:
        logging.info("Warm-starting variables only in TRAINABLE_VARIABLES.")
        list_of_vars = _ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES, scope=vars_to_warm_start)
    elif isinstance(vars_to_warm_start, list):
        if all(isinstance(v, str) for v in vars_to_warm_start):
            list_of_vars = []
            for v in vars_to_warm_start:
                list_of_vars += _ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES, scope=v)
        elif all(_is_variable(v) for v in vars_to_warm_start):
            list_of_vars = vars_to_warm_start
        else:
            raise ValueError(f"If `vars_to_warm_start` is a list, it must be all `Variable` or all `str`.  Given "
                             f"types are {[type(v) for v in vars_to_warm_start]}")
    else:
        raise ValueError(f"`vars_to_warm_start must be a `list` or `str`.  Given type is {type(vars_to_warm_start)}")
    grouped: dict = {}
    for v in list_of_vars:
        grouped.setdefault(_infer_var_name(v if isinstance(v, list) else [v]), []).append(v)
    return grouped


def _object_checkpoint_renames(path: str, names) -> dict:
    """TF maps names through an object-based checkpoint's object graph; name-based checkpoints need none."""
    from graphcompat.training.checkpoint_utils import load_checkpoint
    if load_checkpoint(path).has_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"):
        raise NotImplementedError("tf.train.warm_start from an object-based (tf.train.Checkpoint) checkpoint is not "
                                  "supported by graphcompat")
    return {}


def warm_start(ckpt_to_initialize_from, vars_to_warm_start=".*", var_name_to_vocab_info=None,
               var_name_to_prev_var_name=None) -> None:
    """`tf.train.warm_start`: the selected variables (a regex over trainable variables, a list of scope
    regexes over global variables, or a list of variables) are initialized from the checkpoint."""
    from graphcompat.training.checkpoint_utils import init_from_checkpoint
    logging.info(f"Warm-starting from: {ckpt_to_initialize_from}")
    if var_name_to_vocab_info:
        raise NotImplementedError("tf.train.warm_start with var_name_to_vocab_info (tf.train.VocabInfo vocabulary "
                                  "remapping) is not supported by graphcompat")
    grouped = _get_grouped_variables(vars_to_warm_start)
    if not var_name_to_prev_var_name:
        var_name_to_prev_var_name = _object_checkpoint_renames(ckpt_to_initialize_from, grouped.keys())
    warmstarted = 0
    prev_names_used = set()
    vocabless: dict = {}
    for var_name, group in grouped.items():
        prev_var_name = var_name_to_prev_var_name.get(var_name)
        if prev_var_name:
            prev_names_used.add(var_name)
        if not vars_to_warm_start:
            continue
        warmstarted += 1
        variable = group[0] if len(group) == 1 else group
        if not (_is_variable(variable) or (isinstance(variable, list) and all(_is_variable(v) for v in variable))):
            raise TypeError(f"var MUST be one of the following: a Variable, list of Variable or PartitionedVariable, "
                            f"but is {type(variable)}")
        prev_tensor_name = prev_var_name or _infer_var_name(variable if isinstance(variable, list) else [variable])
        if prev_tensor_name in vocabless:  # two variables from one checkpoint tensor: init the first now
            init_from_checkpoint(ckpt_to_initialize_from, vocabless)
            vocabless.clear()
        vocabless[prev_tensor_name] = variable
    if vocabless:
        init_from_checkpoint(ckpt_to_initialize_from, vocabless)
    unused = set(var_name_to_prev_var_name.keys()) - prev_names_used
    logging.info("Warm-started %d variables.", warmstarted)
    if unused:
        raise ValueError(f"You provided the following variables in var_name_to_prev_var_name that were not used: "
                         f"{unused}.  Perhaps you misspelled them?  Here is the list of viable variable names: "
                         f"{grouped.keys()}")
