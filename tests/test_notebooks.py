"""Every notebook in notebooks/ executes clean (nbclient), and the committed files carry no outputs.

The kernel runs this test's own interpreter (a kernelspec written to a temporary JUPYTER_PATH), with the
repository on PYTHONPATH, so it works in /work/venv and in CI's `.venv` alike. A notebook that uses a
`tf.*` symbol graphcompat does not have yet is skipped, naming the symbols; it runs as soon as they land.
"""
import glob
import importlib.util
import json
import os
import re
import sys

import pytest

import graphcompat as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
KERNEL_NAME = "graphcompat-test"
_TF_SYMBOL = re.compile(r"\btf\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def _code_cells(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    return [c for c in nb["cells"] if c["cell_type"] == "code"], nb


def _missing_symbols(path):
    """`tf.a.b` names used by the notebook's code that graphcompat cannot resolve."""
    cells, _ = _code_cells(path)
    missing = set()
    for cell in cells:
        for symbol in _TF_SYMBOL.findall("".join(cell["source"])):
            obj = tf
            parts = symbol.split(".")
            for i, part in enumerate(parts):
                if not hasattr(obj, part):
                    missing.add("tf." + ".".join(parts[:i + 1]))  # the first missing level only
                    break
                obj = getattr(obj, part)
    return sorted(missing)


def test_notebooks_exist():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert names == ["01_graphs_and_sessions.ipynb", "02_constants_variables_placeholders.ipynb",
                     "03_linear_regression.ipynb", "04_optimizers.ipynb", "05_word2vec.ipynb",
                     "06_devices_and_compile_cache.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_committed_without_outputs(path):
    cells, _ = _code_cells(path)
    for cell in cells:
        assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path}: strip outputs"


def test_notebooks_match_generator():
    pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", os.path.join(ROOT, "tools", "make_notebooks.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name in gen.NOTEBOOKS:
        with open(os.path.join(ROOT, "notebooks", name), encoding="utf-8") as f:
            assert f.read() == gen.render(name), f"notebooks/{name} is stale: run python tools/make_notebooks.py"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A kernelspec that starts this interpreter with the repository importable."""
    base = tmp_path_factory.mktemp("jupyter")
    spec_dir = base / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    pythonpath = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "graphcompat tests", "language": "python",
            "env": {"PYTHONPATH": pythonpath}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return str(base)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_executes(path, kernel_path, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    missing = _missing_symbols(path)
    if missing:
        pytest.skip("needs features not in graphcompat yet: " + ", ".join(missing))
    with open(path, encoding="utf-8") as f:
        if "import matplotlib" in f.read():
            pytest.importorskip("matplotlib", reason="the notebook plots with matplotlib (test extra)")
    monkeypatch.setenv("JUPYTER_PATH", kernel_path)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name=KERNEL_NAME,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell and traceback
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", "".join(output.get("traceback", []))


@pytest.mark.slow
def test_pictures_and_notices_display_quietly(kernel_path, tmp_path, monkeypatch):
    """In Jupyter: `tf.show_graph(x)` as a cell's last line shows one picture (not its HTML source), a
    Variable draws like a Tensor, and the compile notice is a grey info line, not a stderr box."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", kernel_path)
    cells = [
        "import numpy as np\nimport graphcompat as tf\nfrom lowering import stats\nstats.notice_after_seconds = 0.0",
        "x = tf.placeholder(tf.float32, [None, 3])\nw = tf.Variable(tf.ones([3, 1]), name='w')\n"
        "loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))\n"
        "step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)\n"
        "sess = tf.Session()\nsess.run(tf.global_variables_initializer())\n"
        "for _ in range(3):\n    sess.run(step, {x: np.ones((4, 3), np.float32)})",
        "tf.show_graph(loss)",
        "w",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=KERNEL_NAME,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    training, picture, variable = (nb.cells[i].outputs for i in (1, 2, 3))
    assert not [o for o in training if o.output_type == "stream" and o.name == "stderr"], training
    notices = [o for o in training if o.output_type == "display_data"]
    assert notices and all("gc-notice" in o.data["text/html"] and "compiling" in o.data["text/plain"]
                           for o in notices)
    assert len(picture) == 1 and picture[0].output_type == "display_data", picture
    assert "<svg" in picture[0].data["text/html"] and "Subgraph of Mean:0" in picture[0].data["text/html"]
    assert variable[0].output_type == "execute_result" and "Variable w" in variable[0].data["text/html"]
