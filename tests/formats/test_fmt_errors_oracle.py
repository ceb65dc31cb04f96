"""Damaged, truncated and missing files fail exactly as in real TensorFlow: same class, same text.

Every cut and every flipped byte of small TFRecord files (plain, ZLIB, GZIP) and of a checkpoint is
read by TF and by graphcompat; the outcomes (values, or exception class, code and message) must match.
"""

import os
import shutil

import numpy as np
import pytest

import graphcompat as gc
from graphcompat.formats import read_records, write_bundle, write_records

pytestmark = pytest.mark.oracle


def _outcome(fn):
    """What `fn()` does, comparable across TF and graphcompat: its value, or its error."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 (the outcome is the comparison)
        code = getattr(exc, "error_code", None)
        # TF's OpError subclasses and ours share names; the base OpError is "OpError" in both.
        return type(exc).__name__, code, getattr(exc, "message", str(exc))
    if isinstance(value, np.ndarray):
        return "value", value.dtype.str, value.tolist()
    return "value", value


def _variants(data: bytes) -> dict:
    variants = {f"cut {n}": data[:n] for n in range(len(data))}
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x04
        variants[f"flip {position}"] = bytes(damaged)
    return variants


@pytest.mark.parametrize("compression", ["", "ZLIB", "GZIP"])
def test_tfrecord_damage_matches_tf(tf, tmp_path, compression):
    path = str(tmp_path / "records")
    write_records(path, [b"first", b"second record" * 3, b""], compression)
    variants = _variants(open(path, "rb").read())
    variants["not a record file"] = b"this is not a TFRecord file, no"
    damaged = str(tmp_path / "damaged")
    mismatches = []
    for name, content in variants.items():
        with open(damaged, "wb") as f:
            f.write(content)
        theirs = _outcome(lambda: list(tf.compat.v1.io.tf_record_iterator(damaged, compression or None)))
        ours = _outcome(lambda: list(read_records(damaged, compression)))
        public = _outcome(lambda: list(gc.python_io.tf_record_iterator(damaged, gc.io.TFRecordOptions(compression))))
        if not theirs == ours == public:
            mismatches.append((name, theirs, ours, public))
    assert not mismatches, mismatches[:5]


def test_missing_and_directory_event_files_match_tf(tf, tmp_path):
    for path in [str(tmp_path / "missing"), str(tmp_path)]:
        theirs = _outcome(lambda: list(tf.compat.v1.train.summary_iterator(path)))
        ours = _outcome(lambda: list(gc.train.summary_iterator(path)))
        assert theirs == ours


def test_writer_errors_match_tf(tf, tmp_path):
    (tmp_path / "file").write_text("x")
    for path in [str(tmp_path / "file"), str(tmp_path / "file" / "sub")]:  # log directories that cannot exist
        with tf.Graph().as_default():  # TF's FileWriter refuses eager mode
            theirs = _outcome(lambda: tf.compat.v1.summary.FileWriter(path))
        assert theirs[0] != "value" and theirs == _outcome(lambda: gc.summary.FileWriter(path))
    for path in [str(tmp_path / "file" / "x"), str(tmp_path), str(tmp_path / "no" / "x")]:
        theirs = _outcome(lambda: tf.compat.v1.io.TFRecordWriter(path))
        assert theirs[0] != "value" and theirs == _outcome(lambda: gc.io.TFRecordWriter(path))


def test_checkpoint_state_write_errors_match_tf(tf, tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "d" / "checkpoint").mkdir(parents=True)
    for directory in ["nodir", "file", "d"]:
        save_dir = str(tmp_path / directory)

        def update(module):
            module.train.update_checkpoint_state(save_dir, save_dir + "/m")
        theirs, ours = _outcome(lambda: update(tf.compat.v1)), _outcome(lambda: update(gc))
        # The message names the temporary file, whose name is random: compare up to it.
        assert theirs[:2] == ours[:2] and theirs[2].split(".tmp")[0] == ours[2].split(".tmp")[0]
        assert theirs[2].split("; ")[-1] == ours[2].split("; ")[-1]
    assert os.listdir(tmp_path / "d") == ["checkpoint"]  # the temporary file is removed, as in TF


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    prefix = str(tmp_path_factory.mktemp("ckpt") / "model")
    write_bundle(prefix, {"v": np.arange(40, dtype=np.float32), "step": np.int64(7),
                          "words": np.array([b"alpha", b"", b"gamma"], dtype=object)})
    return prefix


def _read_all(module, prefix):
    reader = module.train.NewCheckpointReader(prefix)
    shapes = reader.get_variable_to_shape_map()
    return sorted(shapes.items()), [_outcome(lambda: reader.get_tensor(k)) for k in sorted(shapes)]


def _damaged_copies(prefix, tmp_path, suffix):
    original = open(prefix + suffix, "rb").read()
    target = str(tmp_path / "damaged")
    for name, content in _variants(original).items():
        for ext in (".index", ".data-00000-of-00001"):
            shutil.copyfile(prefix + ext, target + ext)
        with open(target + suffix, "wb") as f:
            f.write(content)
        yield name, target


@pytest.mark.parametrize("suffix", [".index", ".data-00000-of-00001"])
def test_checkpoint_reader_damage_matches_tf(tf, tmp_path, checkpoint, suffix):
    mismatches = []
    for name, damaged in _damaged_copies(checkpoint, tmp_path, suffix):
        theirs = _outcome(lambda: _read_all(tf.compat.v1, damaged))
        ours = _outcome(lambda: _read_all(gc, damaged))
        if theirs != ours:
            mismatches.append((name, theirs, ours))
    assert not mismatches, mismatches[:5]


def test_checkpoint_reader_missing_files_match_tf(tf, tmp_path, checkpoint):
    target = str(tmp_path / "model")
    shutil.copyfile(checkpoint + ".index", target + ".index")  # no data file
    os.mkdir(str(tmp_path / "dir.index"))                       # an index that is a directory
    for prefix in [str(tmp_path / "absent"), target, str(tmp_path / "dir")]:
        assert _outcome(lambda: _read_all(tf.compat.v1, prefix)) == _outcome(lambda: _read_all(gc, prefix))


def _restore(module, prefix):
    """Restores v and step from `prefix` with a Saver; returns (class, code, first line of the message)."""
    graph = module.Graph()
    with graph.as_default():
        v = module.Variable(np.zeros(40, np.float32), name="v")
        step = module.Variable(np.int64(0), name="step")
        saver = module.train.Saver([v, step])
        with module.Session(graph=graph) as sess:
            try:
                saver.restore(sess, prefix)
            except module.errors.OpError as exc:
                lines = [line for line in exc.message.splitlines() if line and not line.startswith(
                    ("Graph execution error", "Detected at node", "  ", "Node:", "\t", "Original stack"))]
                return type(exc).__name__, exc.error_code, lines[-1]
            return "restored", sess.run(step)


@pytest.mark.parametrize("damage", ["index cut 20", "index cut 100", "index flip 5", "index flip 90",
                                    "data cut 100", "data flip 50", "data missing -"])
def test_restore_failures_match_tf(tf, tmp_path, checkpoint, damage):
    target = str(tmp_path / "model")
    for ext in (".index", ".data-00000-of-00001"):
        shutil.copyfile(checkpoint + ext, target + ext)
    part, kind, arg = damage.split()
    path = target + (".index" if part == "index" else ".data-00000-of-00001")
    data = bytearray(open(path, "rb").read())
    if kind == "cut":
        data = data[:int(arg)]
    elif kind == "flip":
        data[int(arg)] ^= 0x10
    if kind == "missing":
        os.remove(path)
    else:
        with open(path, "wb") as f:
            f.write(bytes(data))
    assert _restore(tf.compat.v1, target) == _restore(gc, target)
