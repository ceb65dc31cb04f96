"""`tf.make_template` (TF's ops/template.py): a function whose variables are created on its first call
and shared (reused) on every later call, in one variable scope named after the template.
"""
from __future__ import annotations

import functools
import sys
import traceback

from graphcompat import tf_logging as logging
from graphcompat.framework import ops as _ops


def _vs():
    import graphcompat.variable_scope  # noqa: F401  (the module; the package attribute is the class)
    return sys.modules["graphcompat.variable_scope"]


def make_template(name_, func_, create_scope_now_=False, unique_name_=None, custom_getter_=None, **kwargs):
    """`tf.make_template(name_, func_, create_scope_now_=False, unique_name_=None, custom_getter_=None,
    **kwargs)`: `func_` (with `kwargs` bound) wrapped so that its `tf.get_variable` calls share variables."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)


def _skip_common_stack_elements(stacktrace, base_case):
    for i, (trace, base) in enumerate(zip(stacktrace, base_case)):
        if trace != base:
            return stacktrace[i:]
    return stacktrace[-1:]


class Template:
    """The result of `make_template`: call it like its function."""

    def __init__(self, name, func, create_scope_now=False, unique_name=None, custom_getter=None,
                 create_graph_function=False):
        if create_graph_function:
            raise NotImplementedError("tf.make_template(create_graph_function_=True) (tf.function) is not supported "
                                      "by graphcompat")
        self._func = func
        self._stacktrace = traceback.format_stack()[:-2]
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        if name is None:
            raise ValueError("name cannot be None.")
        vs = _vs()
        if create_scope_now:
            with vs._pure_variable_scope(self._unique_name or vs._get_unique_variable_scope(self._name),
                                         custom_getter=self._custom_getter) as scope:
                self._variable_scope = scope
        else:
            self._variable_scope = None
        self._variables_created = False
        self._first_call = True

    def _call_func(self, args, kwargs):
        try:
            if self._variables_created:
                graph = _ops.get_default_graph()
                vars_at_start = len(graph.get_collection_ref(_ops.GraphKeys.GLOBAL_VARIABLES))
                trainable_at_start = len(graph.get_collection_ref(_ops.GraphKeys.TRAINABLE_VARIABLES))
                result = self._func(*args, **kwargs)
                trainable = graph.get_collection_ref(_ops.GraphKeys.TRAINABLE_VARIABLES)
                if trainable_at_start != len(trainable):
                    raise ValueError(f"Trainable variable created when calling a template after the first time, "
                                     f"perhaps you used tf.Variable when you meant tf.get_variable: "
                                     f"{trainable[trainable_at_start:]}")
                global_vars = graph.get_collection_ref(_ops.GraphKeys.GLOBAL_VARIABLES)
                if vars_at_start != len(global_vars):
                    logging.info("New variables created when calling a template after the first time, perhaps you "
                                 "used tf.Variable when you meant tf.get_variable: %s", global_vars[vars_at_start:])
            elif self._first_call:
                self._first_call = False
                try:
                    result = self._func(*args, **kwargs)
                except BaseException:
                    self._first_call = True
                    raise
                self._variables_created = True
            else:
                result = self._func(*args, **kwargs)
            return result
        except Exception as exc:
            # TF appends where the template was defined to the error
            arg0 = exc.args[0] if exc.args else ""
            trace = "".join(_skip_common_stack_elements(self._stacktrace, traceback.format_stack()))
            exc.args = (f"{arg0}\n\noriginally defined at:\n{trace}",) + tuple(exc.args[1:])
            raise

    def __call__(self, *args, **kwargs):
        vs = _vs()
        if self._variable_scope:
            with vs.variable_scope(self._variable_scope, reuse=not self._first_call):
                return self._call_func(args, kwargs)
        with vs.variable_scope(self._unique_name, self._name, custom_getter=self._custom_getter) as scope:
            self._variable_scope = scope
            return self._call_func(args, kwargs)

    @property
    def name(self) -> str:
        return self._name

    @property
    def func(self):
        return self._func

    @property
    def variable_scope(self):
        return self._variable_scope

    @property
    def var_scope(self):
        return self._variable_scope

    @property
    def variable_scope_name(self):
        if self._variable_scope:
            name = self._variable_scope.name
            return name if not name or name[-1] == "/" else name + "/"
        return None

    def _collection(self, key: str) -> list:
        return _ops.get_collection(key, self.variable_scope_name) if self._variables_created else []

    @property
    def variables(self) -> list:
        return self.global_variables + self.local_variables

    @property
    def trainable_variables(self) -> list:
        return self._collection(_ops.GraphKeys.TRAINABLE_VARIABLES)

    @property
    def non_trainable_variables(self) -> list:
        trainable = set(self.trainable_variables)
        return [v for v in self.global_variables if v not in trainable]

    @property
    def global_variables(self) -> list:
        return self._collection(_ops.GraphKeys.GLOBAL_VARIABLES)

    @property
    def local_variables(self) -> list:
        return self._collection(_ops.GraphKeys.LOCAL_VARIABLES)

    @property
    def weights(self) -> list:
        return self.variables

    @property
    def trainable_weights(self) -> list:
        return self.trainable_variables

    @property
    def non_trainable_weights(self) -> list:
        return self.non_trainable_variables
