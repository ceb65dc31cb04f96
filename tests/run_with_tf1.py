"""`python run_with_tf1.py program.py [args…]`: runs a TensorFlow 1.x program under real TensorFlow 2's
`tf.compat.v1` (graph mode), the oracle the lecture-program tests compare graphcompat's output with.

TF 2 has no `tensorflow.contrib`; the one contrib module the lecture uses,
`tensorflow.contrib.tensorboard.plugins.projector`, is TensorBoard's own projector module (what TF 1.x
re-exported). `tf.layers` needs the tf-keras package (`TF_USE_LEGACY_KERAS=1`).
"""
import os
import runpy
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as _tf2  # noqa: E402

tf1 = _tf2.compat.v1
tf1.disable_eager_execution()
tf1.logging.set_verbosity(tf1.logging.ERROR)


def _contrib() -> None:
    from tensorboard.plugins import projector
    names = ["tensorflow.contrib", "tensorflow.contrib.tensorboard", "tensorflow.contrib.tensorboard.plugins"]
    modules = [types.ModuleType(n) for n in names]
    for parent, child in zip(modules, modules[1:] + [projector]):
        setattr(parent, child.__name__.rsplit(".", 1)[-1] if child is not projector else "projector", child)
    for name, module in zip(names, modules):
        sys.modules[name] = module
    sys.modules["tensorflow.contrib.tensorboard.plugins.projector"] = projector
    tf1.contrib = modules[0]


_contrib()
sys.modules["tensorflow"] = tf1

if __name__ == "__main__":
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))
    runpy.run_path(program, run_name="__main__")
