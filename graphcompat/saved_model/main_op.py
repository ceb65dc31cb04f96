"""`tf.saved_model.main_op`: the op a SavedModel runs after restoring (initializers for what is not saved)."""
from graphcompat.framework import ops as _ops


def main_op():
    """Groups the global and local variable initializers and the table initializers."""
    from graphcompat import variables
    from graphcompat.ops.control_ops import group
    init = variables.global_variables_initializer()
    init_local = variables.local_variables_initializer()
    init_tables = group(*_ops.get_collection(_ops.GraphKeys.TABLE_INITIALIZERS), name="init_all_tables")
    return group(init, init_local, init_tables)


def main_op_with_restore(restore_op_name):
    """`main_op()` followed by the restore op named `restore_op_name`."""
    from graphcompat.ops.control_ops import group
    restore = _ops.get_default_graph().as_graph_element(restore_op_name) \
        if isinstance(restore_op_name, (str, bytes)) else restore_op_name
    with _ops.control_dependencies([main_op()]):
        return group(restore)
