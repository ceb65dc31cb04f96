"""The dataset names in TF's context on a dataset function's error, exactly: `<op type>:N`, N TF's process-wide
counter of the datasets made (each run of a dataset op, each dataset a function or a window makes). Other tests
mask N: they run TF and graphcompat in one process, where each library's counter has counted what every test
before made with it. Here one program runs in a fresh process per library, and the texts must be equal."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.oracle

# every pipeline is drained: the datasets TF's prefetching makes ahead are all made before the next one starts
PROGRAM = r'''
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
if sys.argv[1] == "tf":
    import tensorflow.compat.v1 as tf
    tf.disable_eager_execution()
else:
    import graphcompat as tf
from tests._bad_input_sweep import kernel_text


def div(x):
    return 12 // (x - tf.constant(3, x.dtype))


def drain(ds, inits=1):
    out = []
    with tf.Graph().as_default() as graph:
        ds = ds()
        it = tf.data.make_initializable_iterator(ds) if inits > 1 else tf.data.make_one_shot_iterator(ds)
        nxt = it.get_next()
        with tf.Session(graph=graph) as sess:
            for _ in range(inits):
                if inits > 1:
                    sess.run(it.initializer)  # runs the dataset ops again: new datasets, new numbers
                while True:
                    try:
                        out.append(str(np.asarray(sess.run(nxt)).tolist()))
                    except tf.errors.OutOfRangeError:
                        break
                    except tf.errors.OpError as e:
                        out.append(type(e).__name__ + ": " + kernel_text(e.message, mask_datasets=False))
    return out


words = lambda w: tf.data.Dataset.from_tensor_slices(w).map(tf.strings.to_number)
out = [
    drain(lambda: tf.data.Dataset.range(5).map(div).repeat(2)),
    drain(lambda: words(["1", "x", "2"]), inits=2),
    drain(lambda: tf.data.Dataset.range(3).flat_map(
        lambda i: tf.data.Dataset.range(2).map(lambda x: 12 // (x - i + 1)))),
    drain(lambda: words(["1", "x", "2", "3", "4"]).window(2).flat_map(lambda w: w.batch(2))),
    drain(lambda: tf.data.Dataset.range(5).filter(lambda x: tf.equal(div(x), 0))),
]
print("RESULT " + json.dumps(out))
'''


def _run(lib: str) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [p for p in sys.path if p]),
               TF_USE_LEGACY_KERAS="1")
    return subprocess.Popen([sys.executable, "-c", PROGRAM, lib], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> list:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def test_dataset_names_count_as_tfs_in_a_fresh_process():
    pytest.importorskip("tensorflow")
    tf_proc, gc_proc = _run("tf"), _run("graphcompat")  # side by side: the two imports take most of the time
    want, got = _result(tf_proc), _result(gc_proc)
    assert any("passed to FilterDataset:" in line for line in want[-1])  # TF's context, with its number
    assert got == want
