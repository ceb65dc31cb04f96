"""One module per op family; importing them registers their rules."""
from lowering.rules import array, linalg, math, sort  # noqa: F401
from lowering.rules import gradients, random, state, train  # noqa: F401
from lowering.rules import resource  # noqa: F401  (after train: the ResourceApply* rules reuse its Apply* rules)
from lowering.rules import grad_ops, sharded_save  # noqa: F401
from lowering.rules import data, saver, summary  # noqa: F401
from lowering.rules import control_flow, data_dependent, image  # noqa: F401
from lowering.rules import nn  # noqa: F401
