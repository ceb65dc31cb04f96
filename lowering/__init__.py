"""graphcompat's JAX back end: TF op types → JAX, pruned plans, one jitted function per signature.

Importing this package registers every lowering rule (lowering/rules/*.py).
"""
from lowering.registry import RULES, Rule, get_rule, lowers  # noqa: F401
from lowering import rules  # noqa: F401  (registers the rules)
from lowering.plan import Plan  # noqa: F401
from lowering import compile_cache  # noqa: F401  (JAX's persistent compilation cache, on by default)
from lowering import warmup  # noqa: F401  (one tiny compile: JAX initialises its compiler now)
