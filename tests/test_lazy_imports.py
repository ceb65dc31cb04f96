"""Names that load on first use (graphcompat/_lazy.py) behave as eager ones, and loading them registers
nothing: the op registry is complete once `import graphcompat` returns. Runs in a fresh interpreter, since
other tests have long loaded every module."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHECK = """
import sys
import graphcompat as tf
from graphcompat.framework import registry
import lowering.registry as lowering_registry

lazy_modules = {source for ns in (tf, tf.train) for source, _ in ns._LAZY.values()}
assert not lazy_modules & set(sys.modules), sorted(lazy_modules & set(sys.modules))
assert "optax" not in sys.modules
ops, rules = set(registry.OP_DEFS), set(lowering_registry.RULES)

for ns in (tf, tf.train):
    for name, (source, attr) in ns._LAZY.items():
        assert name in dir(ns), name
        value = getattr(ns, name)
        assert value is (sys.modules[source] if attr is None else getattr(sys.modules[source], attr))
from graphcompat import show_graph, import_graph_def  # noqa: F401
from graphcompat.train import MonitoredTrainingSession, Supervisor  # noqa: F401
from graphcompat.training.meta_graph import attr_from_proto  # noqa: F401
assert set(registry.OP_DEFS) == ops and set(lowering_registry.RULES) == rules
print("ok")
"""


def test_lazy_names_load_on_first_use_and_register_nothing():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_unknown_names_still_raise_tfs_error():
    import graphcompat as tf
    for ns, name in ((tf, "tf.no_such_symbol"), (tf.train, "tf.train.no_such_symbol")):
        try:
            getattr(ns, name.rsplit(".", 1)[1])
        except NotImplementedError as e:
            assert name in str(e)
        else:
            raise AssertionError(name)
