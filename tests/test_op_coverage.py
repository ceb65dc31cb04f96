"""docs/op_coverage.md is generated from TF's op registry and graphcompat's: regenerating reproduces it."""
import importlib.util
import os
import subprocess
import sys

import pytest

from tests import oracle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _generator():
    spec = importlib.util.spec_from_file_location("gen_op_coverage", os.path.join(ROOT, "tools", "gen_op_coverage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.oracle
def test_committed_op_coverage_is_current():
    """In a fresh interpreter, as the doc is generated: tests register op types of their own."""
    oracle.tf1()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_op_coverage.py"), "--check"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.oracle
def test_classification():
    oracle.tf1()
    gen = _generator()
    status, notes, extra = gen.classify(gen.tf_op_defs())
    assert status["MatMul"] == status["ResourceApplyAdam"] == status["ReluGrad"] == "runs"
    assert status["Switch"] == status["StatelessWhile"] == status["PartitionedCall"] == "rebuilt"
    assert status["TPUReplicateMetadata"] == "missing"
    assert "MatMul" not in notes and not set(extra) & set(status)
