"""The notebook renderer: graphs, tensors and ops draw as self-contained, well-formed HTML/SVG."""
import re
import xml.etree.ElementTree as ET

import pytest

import graphcompat as tf
from graphcompat import notebook

SVG = "{http://www.w3.org/2000/svg}"


def _scoped_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("layer1"):
            w = tf.constant([[1.0], [2.0], [3.0]], name="w")
            h = tf.matmul(x, w)
            with tf.name_scope("act"):
                a = tf.tanh(h)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.square(a - 1.0))
        other = tf.constant(7, name="unrelated")
    return g, x, a, loss, other


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # raises on anything that is not well-formed XML


def _titles(root: ET.Element) -> list:
    return [t.text for t in root.iter(SVG + "title")]


def test_graph_renders_every_op_grouped_by_scope():
    g, *_ = _scoped_graph()
    text = g._repr_html_()
    root = _parse(text)
    titles = "\n".join(_titles(root))
    for op in g.get_operations():
        assert f"{op.name} ({op.type})" in titles, op.name
    # Each scope is a collapsible block, nested as the scopes are.
    summaries = ["".join(s.itertext()) for s in root.iter("summary")]
    assert any("layer1/" in s for s in summaries)
    assert any("layer1/act/" in s for s in summaries)
    assert any("loss/" in s for s in summaries)
    layer1 = next(d for d in root.iter("details") if "layer1/" in "".join(d.find("summary").itertext()))
    assert any("layer1/act/" in "".join(s.itertext()) for s in layer1.iter("summary"))
    # At the top level a scope is one box, not its ops.
    top_svg = next(root.iter(SVG + "svg"))
    top_titles = "\n".join(_titles(top_svg))
    assert "name scope layer1/" in top_titles
    assert "layer1/MatMul (MatMul)" not in top_titles


def test_op_types_and_short_names_are_visible_text():
    g, *_ = _scoped_graph()
    root = _parse(notebook.render_graph_html(g))
    texts = {t.text for t in root.iter(SVG + "text")}
    assert {"MatMul", "Tanh", "Placeholder", "x", "w"} <= texts


def test_edges_are_svg_paths_with_tensor_titles():
    g, x, *_ = _scoped_graph()
    root = _parse(notebook.render_graph_html(g))
    paths = [p for p in root.iter(SVG + "path") if p.get("class") in ("gc-edge", "gc-ctrl")]
    assert paths
    for p in paths:
        assert re.match(r"^M-?[\d.]+,-?[\d.]+ C", p.get("d"))
    edge_titles = [p.find(SVG + "title").text for p in paths]
    assert any(t.startswith("x:0: float32 (?, 3)") for t in edge_titles)


def test_tensor_renders_only_its_subgraph():
    g, x, a, loss, other = _scoped_graph()
    root = _parse(a._repr_html_())
    titles = "\n".join(_titles(root))
    assert "layer1/act/Tanh (Tanh)" in titles and "x (Placeholder)" in titles
    assert "unrelated" not in titles and "loss/" not in titles
    head = "".join(root.find("div").itertext())
    assert "layer1/act/Tanh:0" in head
    # The fetched op is highlighted.
    assert any("gc-target" in (e.get("class") or "") for e in root.iter(SVG + "g"))


def test_operation_renders():
    g, x, a, loss, other = _scoped_graph()
    root = _parse(other.op._repr_html_())
    assert "unrelated (Const)" in "\n".join(_titles(root))
    assert "MatMul" not in "\n".join(_titles(root))


def test_control_edges_are_dashed():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0, name="a")
        with tf.control_dependencies([a]):
            b = tf.constant(2.0, name="b")
    root = _parse(notebook.render_graph_html(g))
    ctrl = [p for p in root.iter(SVG + "path") if p.get("class") == "gc-ctrl"]
    assert len(ctrl) == 1 and ctrl[0].find(SVG + "title").text == "^a (control)"


def test_names_are_escaped():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="a>b")
    text = notebook.render_graph_html(g)
    _parse(text)
    assert "a&gt;b" in text


def test_empty_graph_and_marker_ids_unique():
    assert "no operations" in notebook.render_graph_html(tf.Graph())
    g, *_ = _scoped_graph()
    ids = re.findall(r'marker id="([^"]+)"', notebook.render_graph_html(g) + notebook.render_graph_html(g))
    assert len(ids) == len(set(ids)) > 2


def test_large_graph_and_max_ops():
    g = tf.Graph()
    with g.as_default():
        v = tf.constant(1.0)
        for i in range(1000):
            with tf.name_scope(f"block{i // 100}"):
                v = tf.sqrt(v) if i % 2 else v * 1.5
    root = _parse(notebook.render_graph_html(g))
    titles = "\n".join(_titles(root))
    assert all(f"{op.name} ({op.type})" in titles for op in g.get_operations())
    capped = notebook.render_graph_html(g, max_ops=50)
    assert "showing the first 50" in capped


def test_folded_scopes_with_back_edges():
    # a/x feeds b/y feeds a/z: folding scopes makes a cycle a -> b -> a; it must still draw.
    g = tf.Graph()
    with g.as_default():
        with tf.name_scope("a"):
            x = tf.constant(1.0, name="x")
        with tf.name_scope("b"):
            y = tf.sqrt(x, name="y")
        with tf.name_scope("a/"):
            tf.sqrt(y, name="z")
    root = _parse(notebook.render_graph_html(g))
    top = next(root.iter(SVG + "svg"))
    assert len([p for p in top.iter(SVG + "path") if p.get("class") == "gc-edge"]) == 2


def test_show_graph_outside_ipython_writes_file(capsys):
    g, *_ = _scoped_graph()
    text = tf.show_graph(g)
    printed = capsys.readouterr().out
    path = printed.strip().rpartition(" ")[2]
    with open(path, encoding="utf-8") as f:
        assert text in f.read()


def test_rejects_non_graph_objects():
    with pytest.raises(TypeError, match="Cannot draw a int"):
        notebook.render_graph_html(3)


def test_operand_constant_scopes_are_not_boxed():
    # `x * 2.0` records `mul` and `mul/y`: drawn as two plain ops, not as a `mul/` group.
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, name="x")
        x * 2.0
    root = _parse(notebook.render_graph_html(g))
    assert not list(root.iter("details"))
    texts = {t.text for t in root.iter(SVG + "text")}
    assert {"mul", "mul/y", "x"} <= texts


def test_sources_sit_above_their_first_consumer():
    g = tf.Graph()
    with g.as_default():
        v = tf.placeholder(tf.float32, name="v")
        for _ in range(4):
            v = tf.sqrt(v)
        late = tf.constant(1.0, name="late")
        v + late
    root = _parse(notebook.render_graph_html(g))
    ys = {g_.find(SVG + "title").text.split(" ")[0]: float(g_.find(SVG + "rect").get("y"))
          for g_ in root.iter(SVG + "g")}
    assert ys["late"] == ys["Sqrt_3"] > ys["v"]


def test_op_named_like_its_scope_keeps_its_name():
    g = tf.Graph()
    with g.as_default():
        with tf.name_scope("embed"):
            x = tf.placeholder(tf.float32, name="x")
            y = tf.sqrt(x, name="lookup")
            with tf.name_scope("lookup/"):
                tf.sqrt(y, name="inner")
    root = _parse(notebook.render_graph_html(g))
    labels = [g_.findall(SVG + "text")[0].text for g_ in root.iter(SVG + "g")]
    assert "lookup" in labels and "" not in labels and None not in labels


def _adam_mlp_graph():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="image")
        y = tf.placeholder(tf.float32, [None, 10], name="label")
        h = tf.layers.dense(tf.layers.dense(x, 128, activation=tf.nn.relu), 64, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 10)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        tf.train.AdamOptimizer(0.01).minimize(loss)
    return g


def test_wide_fan_in_scopes_stay_notebook_wide():
    """An optimizer's scopes read many tensors from outside: grouped by their scope, rows wrapped, every
    picture fits a notebook's width, and each grouped input is still named in its stub's title."""
    g = _adam_mlp_graph()
    root = _parse(notebook.render_graph_html(g))
    widths = [float(svg.get("width")) for svg in root.iter(SVG + "svg")]
    assert len(widths) > 40 and max(widths) <= notebook._MAX_ROW_W + 80
    tree = notebook._ScopeTree(list(g._ops))
    adam = tree.scopes["Adam"]
    outside = {t.op.name for op in tree.subtree_ops(adam) for t in op.inputs
               if not t.op.name.startswith("Adam/") and t.op.name != "Adam"}
    nodes, _ = notebook._level(tree, adam, set())
    stubs = [n for n in nodes if "gc-ext" in n.kind]
    assert len(stubs) <= notebook._MAX_OUTSIDE < len(outside)
    stub_titles = "\n".join(n.title for n in stubs)
    assert all(name in stub_titles for name in outside)
    dense = next(n for n in stubs if n.label == "dense/\u2026")
    assert dense.sub == "6 inputs from outside" and dense.title.count("\n") == 6


def test_wide_layers_wrap_onto_rows():
    g = tf.Graph()
    with g.as_default():
        with tf.name_scope("many"):
            for i in range(40):
                tf.constant(float(i), name=f"constant_number_{i}")
    tree = notebook._ScopeTree(list(g._ops))
    nodes, edges = notebook._level(tree, tree.scopes["many"], set())
    width, height = notebook._layout(nodes, edges)
    assert width <= notebook._MAX_ROW_W and height > 4 * notebook._NODE_H
    assert len({n.y for n in nodes}) > 4
