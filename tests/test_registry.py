"""The op registry: one record per TF op type (graphcompat/framework/registry.py OpDef), registered once."""
from __future__ import annotations

import ast
import os

import numpy as np
import pytest

import graphcompat as tf
from graphcompat.framework import registry
from graphcompat.framework.registry import OP_DEFS, DuplicateRegistrationError, apply_op, defop
from lowering.registry import RULES, lowers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def scratch_ops():
    """Op types a test defines, removed afterwards (the registry is process-wide)."""
    names: list = []
    yield names
    for name in names:
        registry.unregister(name)


def test_every_op_def_has_its_lowering_and_every_lowering_its_op_def():
    assert sorted(t for t, d in OP_DEFS.items() if d.lowering is None) == []
    assert sorted(set(RULES) - set(OP_DEFS)) == []
    assert all(RULES[t] is d.lowering for t, d in OP_DEFS.items())


def test_type_constraints_are_tfs_order_on_the_op_def():
    assert [d.name for d in OP_DEFS["Abs"].types["T"]] == \
        ["bfloat16", "float16", "float32", "float64", "int8", "int16", "int32", "int64"]
    assert OP_DEFS["ConcatV2"].list_minimums == {"N": 2}


@pytest.mark.oracle
def test_type_tables_are_tfs_registry():
    """framework/tf_op_types.py is what tools/gen_op_types.py derives from TF's op registry now: every
    defined op's allowed dtypes (TF's order), type-attr defaults and list minimums."""
    pytest.importorskip("tensorflow")
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_op_types", os.path.join(ROOT, "tools", "gen_op_types.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    with open(gen.OUTPUT_FILE) as f:
        assert f.read() == gen.render(), "graphcompat/framework/tf_op_types.py is stale: run tools/gen_op_types.py"
    assert OP_DEFS["Sum"].default_types == {"Tidx": tf.int32}
    assert "qint8" in OP_DEFS["Sum"].type_names["T"] and all(t.name != "qint8" for t in OP_DEFS["Sum"].types["T"])


def test_loop_flags_mark_training_steps_only():
    loop = {t for t, d in OP_DEFS.items() if d.loop}
    assert {"SymbolicGradient", "ApplyAdam", "ResourceApplyAdam", "SparseApplyAdagrad", "AssignAdd",
            "ScatterAdd", "AssignAddVariableOp", "IteratorGetNext"} <= loop
    assert not {"ScatterNd", "MatMul", "Assign", "Placeholder"} & loop  # a pure op is not an update


def test_defining_an_op_type_twice_is_an_error(scratch_ops):
    scratch_ops.append("GcTestTwice")
    defop("GcTestTwice", "x: T -> y: T")
    with pytest.raises(DuplicateRegistrationError, match="'GcTestTwice' is registered twice"):
        defop("GcTestTwice", "x: T -> y: T")
    with pytest.raises(DuplicateRegistrationError, match="'MatMul' is registered twice"):
        defop("MatMul", "a: T, b: T -> product: T")


def test_lowering_or_folder_twice_is_an_error(scratch_ops):
    scratch_ops.append("GcTestLowerTwice")
    lowers("GcTestLowerTwice")(lambda x, **_: x)  # before its definition: attached when it is defined
    defop("GcTestLowerTwice", "x: T -> y: T", shape=registry.unchanged_shape)
    assert OP_DEFS["GcTestLowerTwice"].lowering is RULES["GcTestLowerTwice"]
    with pytest.raises(DuplicateRegistrationError, match="lowering rule for op type 'GcTestLowerTwice'"):
        lowers("GcTestLowerTwice")(lambda x, **_: x)
    with pytest.raises(DuplicateRegistrationError, match="lowering rule for op type 'MatMul'"):
        lowers("MatMul")(lambda a, b, **_: a @ b)
    with pytest.raises(DuplicateRegistrationError, match="constant folder for op type 'Shape'"):
        registry.register_folders({"Shape": lambda t: None})


def test_a_graph_with_unsupported_ops_gets_one_error_naming_all_of_them(scratch_ops):
    scratch_ops += ["GcTestMissingA", "GcTestMissingB"]
    defop("GcTestMissingA", "x: T -> y: T", shape=registry.unchanged_shape)
    defop("GcTestMissingB", "x: T -> y: T", shape=registry.unchanged_shape)
    x = tf.constant([1.0, 2.0])
    out = apply_op("GcTestMissingB", [apply_op("GcTestMissingA", [x]) + apply_op("GcTestMissingB", [x])])
    with tf.Session() as sess:
        with pytest.raises(NotImplementedError, match="op types 'GcTestMissingA', 'GcTestMissingB' yet"):
            sess.run(out)
        np.testing.assert_array_equal(sess.run(x), [1.0, 2.0])  # the session still works


def test_the_front_end_framework_never_imports_the_back_end():
    """graphcompat/framework is TF's vocabulary: the back end plugs into it, never the other way."""
    framework = os.path.join(ROOT, "graphcompat", "framework")
    offenders = []
    for name in sorted(os.listdir(framework)):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(framework, name)).read())
        for node in ast.walk(tree):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{name}: {m}" for m in modules if m == "lowering" or m.startswith("lowering.")]
    assert offenders == []
