"""graphcompat's JAX back end: TF op types → JAX, pruned plans, one jitted function per signature.

Importing this package registers every lowering rule (lowering/rules/*.py).
"""
from lowering import parallel as _parallel
# multi-process launch (GRAPHCOMPAT_COORDINATOR …): jax.distributed connects before JAX's backend starts
_parallel.initialize_from_env()
from lowering.registry import RULES, Rule, get_rule, lowers  # noqa: F401
from lowering import abstract as _abstract
from graphcompat.framework import registry as _framework_registry

# Ops without a shape function get their static shapes from abstract evaluation of their lowering.
_framework_registry.set_default_shape_inference(_abstract.infer_shapes)
from lowering import rules  # noqa: F401  (registers the rules)
from lowering.plan import Plan  # noqa: F401
from lowering import compile_cache  # noqa: F401  (JAX's persistent compilation cache, on by default)
from lowering import warmup  # noqa: F401  (one tiny compile when the first Session is created)
