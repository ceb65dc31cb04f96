"""tf.saved_model (TF1's API): signatures, TensorInfos, builder (variables, assets, main op, several tag
sets, text format), loader (tags, import scope, init op with asset feeds), TF's errors; and TF's on-disk
format both ways: TF writes → graphcompat loads and runs, graphcompat writes → TF loads and runs."""
import os

import numpy as np
import pytest

import graphcompat as tf
from tests import oracle

W = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
X = np.array([[1.0, 0.5], [-1.0, 2.0]], np.float32)


# --- signatures and tensor infos -------------------------------------------------------------------
def test_signature_defs_and_validity():
    sm = tf.saved_model
    examples = tf.placeholder(tf.string, [None], name="examples")
    scores = tf.placeholder(tf.float32, [None, 3], name="scores")
    classes = tf.placeholder(tf.string, [None, 3], name="classes")
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    predict = sm.predict_signature_def({"x": x}, {"y": x * 2.0})
    assert predict.method_name == sm.PREDICT_METHOD_NAME == "tensorflow/serving/predict"
    assert predict.inputs["x"].name == "x:0" and predict.inputs["x"].dtype == tf.float32.as_datatype_enum
    assert [d.size for d in predict.inputs["x"].tensor_shape.dim] == [-1, 2]
    classify = sm.classification_signature_def(examples, classes, scores)
    regress = sm.regression_signature_def(examples, tf.reduce_sum(scores, 1))
    assert set(classify.outputs) == {"classes", "scores"} and set(regress.outputs) == {"outputs"}
    assert all(sm.is_valid_signature(s) for s in (predict, classify, regress))
    assert not sm.is_valid_signature(sm.build_signature_def({"a": sm.build_tensor_info(x)}, {},
                                                            sm.PREDICT_METHOD_NAME))
    assert not sm.is_valid_signature(None)
    assert sm.utils.get_tensor_from_tensor_info(predict.inputs["x"]) is x
    with pytest.raises(ValueError, match="Regression input tensors must be of type string"):
        sm.regression_signature_def(x, x)
    with pytest.raises(ValueError, match="Classification `classes` and `scores` cannot both be None."):
        sm.classification_signature_def(examples, None, None)
    with pytest.raises(ValueError, match="Prediction `inputs` cannot be None or empty."):
        sm.predict_signature_def({}, {"y": x})
    defaults = sm.build_signature_def(defaults={"k": tf.constant(3)})
    assert tf.make_ndarray(defaults.defaults["k"]) == 3


def test_sparse_tensor_info():
    indices = tf.placeholder(tf.int64, [None, 2], name="indices")
    values = tf.placeholder(tf.float32, [None], name="values")
    sparse = tf.SparseTensor(indices, values, tf.constant([3, 4], tf.int64))
    info = tf.saved_model.build_tensor_info(sparse)
    assert (info.coo_sparse.values_tensor_name, info.coo_sparse.indices_tensor_name) == ("values:0", "indices:0")
    assert [d.size for d in info.tensor_shape.dim] == [3, 4]
    back = tf.saved_model.utils.get_tensor_from_tensor_info(info)
    assert back.values is values and back.indices is indices


# --- graphcompat writes, graphcompat loads ----------------------------------------------------------
def _model(tf_, asset_path=None):
    x = tf_.placeholder(tf_.float32, [None, 2], name="x")
    w = tf_.get_variable("w", initializer=W)
    counter = tf_.get_variable("counter", initializer=5.0, collections=[tf_.GraphKeys.LOCAL_VARIABLES])
    if asset_path is not None:
        tf_.add_to_collection(tf_.GraphKeys.ASSET_FILEPATHS, tf_.constant(asset_path, name="asset_path"))
    y = tf_.identity(tf_.matmul(x, w) + counter, name="y")
    return x, y


def _build_saved_model(tmp_path, as_text=False):
    asset = tmp_path / "vocab.txt"
    asset.write_text("a\nb\n")
    export = str(tmp_path / "export")
    with tf.Graph().as_default():
        x, y = _model(tf, str(asset))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(export)
            signature = {"serving_default": tf.saved_model.predict_signature_def({"x": x}, {"y": y})}
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.tag_constants.SERVING], signature_def_map=signature,
                assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS),
                main_op=tf.saved_model.main_op.main_op())
            builder.add_meta_graph(["eval", "gpu"])
            path = builder.save(as_text=as_text)
    return export, path


@pytest.mark.parametrize("as_text", [False, True], ids=["pb", "pbtxt"])
def test_builder_writes_tensorflows_layout_and_loader_reads_it(tmp_path, as_text):
    export, path = _build_saved_model(tmp_path, as_text)
    assert path == os.fsencode(os.path.join(export, "saved_model.pbtxt" if as_text else "saved_model.pb"))
    assert sorted(os.listdir(export)) == ["assets", os.path.basename(os.fsdecode(path)), "variables"]
    assert sorted(os.listdir(os.path.join(export, "variables"))) == ["variables.data-00000-of-00001",
                                                                     "variables.index"]
    assert os.listdir(os.path.join(export, "assets")) == ["vocab.txt"]
    assert tf.saved_model.maybe_saved_model_directory(export) and tf.saved_model.contains_saved_model(export)
    for tags, scope in [(["serve"], None), (["gpu", "eval"], "imported")]:
        with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
            meta = tf.saved_model.loader.load(sess, tags, export, import_scope=scope)
            assert set(meta.meta_info_def.tags) == set(tags)
            prefix = scope + "/" if scope else ""
            got = sess.run(prefix + "y:0", {prefix + "x:0": X})  # restored w, counter from the main op
            np.testing.assert_allclose(got, X @ W + 5.0)


def test_loader_errors(tmp_path):
    export, _ = _build_saved_model(tmp_path)
    with tf.Session(graph=tf.Graph()) as sess:
        with pytest.raises(RuntimeError, match=r"MetaGraphDef associated with tags 'nope' could not be found in "
                                               r"SavedModel, with available tags"):
            tf.saved_model.loader.load(sess, ["nope"], export)
    with pytest.raises(OSError, match=r"SavedModel file does not exist at: .*missing/\{saved_model.pbtxt\|"
                                      r"saved_model.pb\}"):
        tf.saved_model.loader.load(tf.Session(graph=tf.Graph()), ["serve"], str(tmp_path / "missing"))
    with open(os.path.join(export, "saved_model.pb"), "wb") as f:
        f.write(b"\xff\xff\xff")
    with pytest.raises(OSError, match="Cannot parse file .*saved_model.pb.*"):
        tf.saved_model.loader.load(tf.Session(graph=tf.Graph()), ["serve"], export)


def test_builder_errors(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(AssertionError, match="already exists, and isn't empty"):
        tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "full"))
    builder = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "new"))
    with pytest.raises(AssertionError, match=r"Please invoke `add_meta_graph_and_variables\(\)` first."):
        builder.add_meta_graph(["serve"])
    x = tf.placeholder(tf.float32, name="x")
    with tf.Session() as sess:
        with pytest.raises(KeyError, match="is reserved for initialization"):
            builder.add_meta_graph_and_variables(
                sess, ["serve"], {"__saved_model_init_op": tf.saved_model.predict_signature_def({"x": x}, {"x": x})})
    info = tf.TensorInfo(name="x:0")
    with pytest.raises(AssertionError, match="must have the dtype field set"):
        builder._validate_signature_def_map({"s": tf.saved_model.build_signature_def({"x": info})})


def test_tf2_object_api_is_named_as_missing():
    with pytest.raises(NotImplementedError, match="tf.saved_model.save"):
        tf.saved_model.save(object(), "x")
    with pytest.raises(NotImplementedError, match="tf.saved_model.Asset "):
        tf.saved_model.Asset("x")


# --- TF's format both ways (oracle) -----------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("use_resource", [False, True], ids=["ref", "resource"])
def test_graphcompat_loads_tensorflows_saved_model(tmp_path, use_resource):
    v1 = oracle.tf1()
    asset = tmp_path / "vocab.txt"
    asset.write_text("a\n")
    export = str(tmp_path / "tf_export")
    graph = v1.Graph()
    with graph.as_default():
        with v1.variable_scope("", use_resource=use_resource):
            x, y = _model(v1, str(asset))
        init_local = v1.group(v1.local_variables_initializer(), name="legacy_init")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(init_local)
            want = sess.run(y, {x: X})
            builder = v1.saved_model.builder.SavedModelBuilder(export)
            builder.add_meta_graph_and_variables(
                sess, ["serve"], {"serving_default": v1.saved_model.predict_signature_def({"x": x}, {"y": y})},
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS), main_op=init_local)
            builder.save()
    with tf.Graph().as_default() as ours, tf.Session(graph=ours) as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export)
        signature = meta.signature_def["serving_default"]
        x_ = tf.saved_model.utils.get_tensor_from_tensor_info(signature.inputs["x"])
        y_ = tf.saved_model.utils.get_tensor_from_tensor_info(signature.outputs["y"])
        np.testing.assert_allclose(sess.run(y_, {x_: X}), want)
        assert all(isinstance(v, tf.ResourceVariable) == use_resource for v in tf.global_variables())


_TF2_SAVED_MODEL = """
import sys, numpy as np, tensorflow as tf
class Model(tf.Module):
    def __init__(self):
        self.w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
        self.b = tf.Variable([0.5, -0.5], name="b")
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def __call__(self, x):
        h = tf.matmul(x, self.w) + self.b
        return {"y": tf.nn.relu(h), "s": tf.reduce_sum(h, axis=1)}
model = Model()
model.w.assign_add(tf.ones([3, 2]))  # saved values, not the initial ones
tf.saved_model.save(model, sys.argv[1], signatures=model.__call__)
out = model(tf.constant(np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]], np.float32)))
np.savez(sys.argv[1] + ".npz", **{k: v.numpy() for k, v in out.items()})
"""


@pytest.mark.oracle
def test_graphcompat_loads_a_saved_model_that_tensorflow_2_wrote(tmp_path):
    """tf.saved_model.save of a tf.Module in TF 2 (functions called by StatefulPartitionedCall, resource
    variables restored by its saver function, DisableCopyOnRead): TF1's loader API runs its signature."""
    import subprocess
    import sys
    pytest.importorskip("tensorflow")
    export = str(tmp_path / "tf2_export")
    subprocess.run([sys.executable, "-c", _TF2_SAVED_MODEL, export], check=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    want = np.load(export + ".npz")
    with tf.Graph().as_default() as ours, tf.Session(graph=ours) as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], export)
        signature = meta.signature_def["serving_default"]
        fetches = {k: v.name for k, v in signature.outputs.items()}
        got = sess.run(fetches, {signature.inputs["x"].name: np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]],
                                                                      np.float32)})
    assert sorted(got) == ["s", "y"]
    for key in got:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6)


@pytest.mark.oracle
def test_graphcompat_loads_tensorflows_simple_save(tmp_path):
    v1 = oracle.tf1()
    export = str(tmp_path / "simple")
    graph = v1.Graph()
    with graph.as_default():
        x = v1.placeholder(v1.float32, [None, 2], name="x")
        w = v1.get_variable("w", initializer=W)
        y = v1.nn.softmax(v1.matmul(x, w), name="y")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            want = sess.run(y, {x: X})
            v1.saved_model.simple_save(sess, export, {"x": x}, {"y": y})
    with tf.Session(graph=tf.Graph()) as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], export)
        signature = meta.signature_def[tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        got = sess.run(signature.outputs["y"].name, {signature.inputs["x"].name: X})
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _graphcompat_training_saved_model(export, use_resource):
    """A model with a training op made of TF kernels TF can run (ApplyGradientDescent / its resource twin)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.variable_scope("", use_resource=use_resource):
            w = tf.get_variable("w", initializer=W)
        y = tf.identity(tf.matmul(x, w), name="y")
        grad = tf.placeholder(tf.float32, [2, 2], name="grad")
        from graphcompat.train import training_ops
        train = training_ops.apply("ApplyGradientDescent", [w._ref(), tf.constant(0.5), grad])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {grad: np.ones((2, 2), np.float32)})
            builder = tf.saved_model.builder.SavedModelBuilder(export)
            builder.add_meta_graph_and_variables(
                sess, ["serve"], {"serving_default": tf.saved_model.predict_signature_def({"x": x}, {"y": y})})
            tf.add_to_collection("train", train)
            builder.add_meta_graph(["train"])
            builder.save()
        return train.name


@pytest.mark.oracle
@pytest.mark.parametrize("use_resource", [False, True], ids=["ref", "resource"])
def test_tensorflow_loads_and_trains_graphcompats_saved_model(tmp_path, use_resource):
    v1 = oracle.tf1()
    export = str(tmp_path / "gc_export")
    train_name = _graphcompat_training_saved_model(export, use_resource)
    graph = v1.Graph()
    with v1.Session(graph=graph) as sess:
        meta = v1.saved_model.loader.load(sess, ["serve"], export)
        signature = meta.signature_def["serving_default"]
        np.testing.assert_allclose(sess.run(signature.outputs["y"].name, {signature.inputs["x"].name: X}),
                                   X @ (W - 0.5))
    with v1.Session(graph=v1.Graph()) as sess:
        v1.saved_model.loader.load(sess, ["train"], export)
        sess.run(train_name, {"grad:0": np.ones((2, 2), np.float32)})
        np.testing.assert_allclose(sess.run("y:0", {"x:0": X}), X @ (W - 1.0))
