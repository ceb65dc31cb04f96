"""Graphs you can look at in Jupyter: `Graph`/`Tensor`/`Operation` render as self-contained HTML + SVG.

No JavaScript and no network: the layout is computed here. Name scopes are folded the way TensorBoard
folds them: each level of the scope tree is one layered picture in which a sub-scope is a single box,
and every scope has a collapsible `<details>` block below with its own picture. Layers come from
longest-path layering over the level's nodes (inputs on top), the order inside a layer from one
barycenter sweep. Every node and edge carries a `<title>` (full op name, type, device; tensor name,
dtype, shape) shown on hover. The output is well-formed XML, so it also embeds in plain HTML pages.
"""
from __future__ import annotations

import html
import itertools
import os
import sys
import tempfile
from typing import Any, Iterable, Optional

from graphcompat.framework import ops as _ops

_NODE_H = 34            # two text lines: name, type
_ROW_GAP = 42           # vertical space for edges between layers
_COL_GAP = 14
_CHAR_W = 6.6           # monospace-ish estimate for 11px text
_MIN_W, _MAX_W = 56, 220
_MAX_LABEL = 30         # longer labels are shortened with an ellipsis (the full name is in the title)
_MAX_ROW_W = 860        # a layer wider than this wraps onto more rows (notebook width, no sideways scrolling)
_MAX_OUTSIDE = 6        # more outside inputs than this are grouped by their top-level scope

_render_ids = itertools.count()

_STYLE = """
.gc-graph { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 12px; color: #222; }
.gc-graph .gc-head { margin: 2px 0 4px 0; color: #555; }
.gc-graph .gc-scroll { overflow: auto; max-height: 640px; border: 1px solid #ddd; background: #fcfcfc; }
.gc-graph details { margin: 4px 0 4px 14px; }
.gc-graph summary { cursor: pointer; color: #1a4f8b; }
.gc-graph svg text { font-size: 11px; font-family: ui-monospace, Menlo, Consolas, monospace; }
.gc-graph .gc-op rect { fill: #ffffff; stroke: #777; }
.gc-graph .gc-const rect { fill: #f0f0f0; stroke: #aaa; }
.gc-graph .gc-feed rect { fill: #fff4c2; stroke: #c9a227; }
.gc-graph .gc-var rect { fill: #dff3df; stroke: #4b9b4b; }
.gc-graph .gc-target rect { stroke: #d2451e; stroke-width: 2.5; }
.gc-graph .gc-scope rect { fill: #dceaf8; stroke: #1a4f8b; stroke-width: 1.5; }
.gc-graph .gc-ext rect { fill: none; stroke: #bbb; stroke-dasharray: 3 2; }
.gc-graph .gc-type { fill: #666; }
.gc-graph .gc-edge { fill: none; stroke: #8a8a8a; stroke-width: 1.2; }
.gc-graph .gc-ctrl { fill: none; stroke: #b0b0b0; stroke-width: 1; stroke-dasharray: 4 3; }
"""

_VARIABLE_TYPES = {"VariableV2", "Variable", "VarHandleOp", "TemporaryVariable"}
_FEED_TYPES = {"Placeholder", "PlaceholderWithDefault", "PlaceholderV2"}


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------
def render_graph_html(obj: Any, max_ops: Optional[int] = None) -> str:
    """HTML (with inline SVG) picturing a Graph, or the subgraph that produces a Tensor/Operation.

    Accepts a `tf.Graph`, `tf.Tensor`, `tf.Operation`, anything with `_as_graph_element()` (Variables),
    or a list of those. `max_ops` caps the number of ops drawn (the newest are dropped, with a note).
    """
    ops, targets, what = _collect(obj)
    note = ""
    if max_ops is not None and len(ops) > max_ops:
        note = f" (showing the first {max_ops})"
        ops = ops[:max_ops]
    uid = f"gc{os.getpid() % 10000}x{next(_render_ids)}"
    tree = _ScopeTree(ops)
    n_scopes = len(tree.scopes) - 1
    head = f"{what}: {len(ops)} op{'s' if len(ops) != 1 else ''}{note}"
    if n_scopes:
        head += f", {n_scopes} name scope{'s' if n_scopes != 1 else ''}"
    parts = [f'<div class="gc-graph"><style>{_STYLE}</style>', f'<div class="gc-head">{_esc(head)}</div>']
    if not ops:
        parts.append('<div class="gc-head">(no operations)</div></div>')
        return "".join(parts)
    parts.append(_render_scope(tree, "", targets, uid, top=True))
    parts.append("</div>")
    return "".join(parts)


class GraphPicture(str):
    """What `show_graph` returns: the picture's HTML (a str), displayed once in Jupyter.

    As a cell's last line Jupyter would show a returned string's source; this one displays the picture
    instead, and nothing more when `show_graph` already displayed it.
    """

    _shown = False

    def _repr_html_(self) -> str:
        return str(self)

    def _ipython_display_(self) -> None:
        if not self._shown:
            _display_html(str(self))
            self._shown = True

    def __repr__(self) -> str:
        return f"<graph picture: {len(self)} characters of HTML>"


def _ipython_shell():
    """The running IPython shell, or None (IPython is never imported here: a shell has imported it)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


def _display_html(text: str) -> None:
    from IPython.display import HTML, display
    display(HTML(text))


class NoticeDisplay:
    """A text stream for graphcompat's one-line notices (lowering.stats' "compiling … ops" line): in Jupyter
    each line shows as a quiet grey info line in the cell's output, not in the red stderr box.

    `install_notice_display()` installs one as `lowering.stats.notice_stream` when running in a Jupyter
    kernel (graphcompat does that when imported there); `uninstall_notice_display()` restores stderr.
    """

    def __init__(self):
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            if line.strip():
                self._show(line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._show(self._pending)
        self._pending = ""

    @staticmethod
    def _show(line: str) -> None:
        from IPython.display import display
        html_line = (f'<div class="gc-notice" style="color:#888;font-size:11px;font-family:system-ui,sans-serif">'
                     f'\u24d8 {_esc(line)}</div>')
        display({"text/html": html_line, "text/plain": line}, raw=True)


def in_jupyter_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (not a terminal IPython or a script)."""
    shell = _ipython_shell()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def install_notice_display() -> NoticeDisplay:
    """Routes graphcompat's notices (the compile notice) to quiet info lines in the notebook."""
    from lowering import stats
    if not isinstance(stats.notice_stream, NoticeDisplay):
        stats.notice_stream = NoticeDisplay()
    return stats.notice_stream


def uninstall_notice_display() -> None:
    from lowering import stats
    if isinstance(stats.notice_stream, NoticeDisplay):
        stats.notice_stream = sys.stderr


def show_graph(graph_or_tensor: Any = None, max_ops: Optional[int] = None) -> GraphPicture:
    """Displays the picture of a graph/tensor/op/variable (the default graph when None); returns its HTML.

    In IPython/Jupyter it is displayed inline (once, also as a cell's last line); elsewhere it is written
    to a temporary .html file whose path is printed, so scripts can open it in a browser.
    """
    if graph_or_tensor is None:
        graph_or_tensor = _ops.get_default_graph()
    picture = GraphPicture(render_graph_html(graph_or_tensor, max_ops=max_ops))
    if _ipython_shell() is not None:
        picture._ipython_display_()
    else:
        fd, path = tempfile.mkstemp(prefix="graphcompat-graph-", suffix=".html")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"/></head><body>{picture}</body></html>")
        print(f"graph written to {path}")
    return picture


# ------------------------------------------------------------------------------------------------
# What to draw
# ------------------------------------------------------------------------------------------------
def _as_element(x):
    if isinstance(x, (_ops.Tensor, _ops.Operation, _ops.Graph)):
        return x
    conv = getattr(x, "_as_graph_element", None)
    if conv is not None:
        return conv()
    op = getattr(x, "op", None)
    if isinstance(op, _ops.Operation):
        return op
    raise TypeError(f"Cannot draw a {type(x).__name__}: expected a tf.Graph, tf.Tensor, tf.Operation or "
                    "tf.Variable.")


def _is_variable(x) -> bool:
    """A tf.Variable: its picture is its initializer and its read (the ops a program sees)."""
    return not isinstance(x, (_ops.Tensor, _ops.Operation, _ops.Graph)) and hasattr(x, "_as_graph_element") \
        and isinstance(getattr(x, "initializer", None), _ops.Operation)


def _collect(obj) -> tuple[list, set, str]:
    """(ops to draw in creation order, highlighted ops, heading)."""
    items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if len(items) == 1 and _is_variable(items[0]):
        variable = items[0]
        ops, _, _ = _collect([variable.initializer, variable.value()])
        return ops, {variable.op}, f"Variable {variable.op.name}"
    elements = [_as_element(x) for x in items]
    graphs = [e for e in elements if isinstance(e, _ops.Graph)]
    if graphs:
        if len(elements) != 1:
            raise TypeError("Draw either one tf.Graph or a list of tensors/operations, not a mix.")
        return list(graphs[0]._ops), set(), "Graph"
    roots = [e.op if isinstance(e, _ops.Tensor) else e for e in elements]
    seen: set = set()
    stack = list(roots)
    while stack:  # every op the roots depend on, through data and control edges
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op._inputs)
        stack.extend(op._control_inputs)
    ops = sorted(seen, key=lambda o: o._id)
    names = ", ".join(e.name for e in elements)
    kind = "Subgraph of " if len(elements) > 1 or isinstance(elements[0], _ops.Tensor) else "Subgraph of op "
    return ops, set(roots), kind + names


class _Scope:
    __slots__ = ("path", "parts", "ops", "children", "size")

    def __init__(self, path: str):
        self.path = path
        self.parts = path.split("/") if path else []
        self.ops: list = []            # ops whose home is this scope
        self.children: dict = {}       # component -> _Scope
        self.size = 0                  # ops in the whole subtree


class _ScopeTree:
    """Name scopes from op names. An op named like an existing scope (`v` next to `v/read`) lives in it."""

    def __init__(self, ops: list):
        prefixes = set()
        for op in ops:
            parts = op._name.split("/")
            for i in range(1, len(parts)):
                prefixes.add("/".join(parts[:i]))
        self.scopes: dict[str, _Scope] = {"": _Scope("")}
        self.home: dict = {}           # op -> list of scope components of its home scope
        for op in ops:
            name = op._name
            home = name if name in prefixes else name.rpartition("/")[0]
            self.home[op] = home.split("/") if home else []
            scope = self._scope(home)
            scope.ops.append(op)
        self._dissolve_operand_scopes()
        for op in ops:
            s = self.scopes["/".join(self.home[op])]
            while True:
                s.size += 1
                if not s.path:
                    break
                s = self.scopes[s.path.rpartition("/")[0]]
        self.root = self.scopes[""]

    def _dissolve_operand_scopes(self) -> None:
        """`mul` + `mul/y` (an op and the constants made for its Python operands) draw as plain ops.

        Such a scope holds the op named like it plus only Const ops and no sub-scopes; boxing it would
        hide the op behind a `mul/` group for no benefit.
        """
        for path in sorted(self.scopes, key=lambda p: -p.count("/")):
            scope = self.scopes[path]
            if not path or scope.children:
                continue
            if not any(op._name == path for op in scope.ops):
                continue
            if not all(op._name == path or op._type == "Const" for op in scope.ops):
                continue
            parent_path = path.rpartition("/")[0]
            parent = self.scopes[parent_path]
            for op in scope.ops:
                self.home[op] = parent.parts
                parent.ops.append(op)
            parent.ops.sort(key=lambda o: o._id)
            del parent.children[path.rpartition("/")[2]]
            del self.scopes[path]

    def _scope(self, path: str) -> _Scope:
        scope = self.scopes.get(path)
        if scope is None:
            parent_path = path.rpartition("/")[0]
            parent = self._scope(parent_path)
            scope = self.scopes[path] = _Scope(path)
            parent.children[path.rpartition("/")[2]] = scope
        return scope

    def subtree_ops(self, scope: _Scope) -> list:
        out = list(scope.ops)
        for child in scope.children.values():
            out.extend(self.subtree_ops(child))
        return out


# ------------------------------------------------------------------------------------------------
# One level of the scope tree → one SVG
# ------------------------------------------------------------------------------------------------
class _Node:
    __slots__ = ("key", "label", "sub", "kind", "title", "order", "layer", "x", "y", "w")

    def __init__(self, key, label: str, sub: str, kind: str, title: str, order: int):
        self.key, self.label, self.sub, self.kind, self.title, self.order = key, label, sub, kind, title, order
        self.layer = 0
        self.x = self.y = 0.0
        self.w = _node_width(label, sub)


def _node_width(label: str, sub: str) -> float:
    n = max(len(_shorten(label)), len(_shorten(sub)))
    return float(min(_MAX_W, max(_MIN_W, n * _CHAR_W + 16)))


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[:_MAX_LABEL - 1] + "\u2026"


def _op_kind(op, targets: set) -> str:
    kind = "gc-op"
    if op._type in _VARIABLE_TYPES:
        kind = "gc-var"
    elif op._type in _FEED_TYPES:
        kind = "gc-feed"
    elif op._type == "Const":
        kind = "gc-const"
    if op in targets:
        kind += " gc-target"
    return kind


def _op_title(op) -> str:
    lines = [f"{op._name} ({op._type})"]
    if op._device:
        lines.append(f"device: {op._device}")
    for t in op._outputs:
        lines.append(f"{t.name}: {t.dtype.name} {t.shape}")
    return "\n".join(lines)


def _level(tree: _ScopeTree, scope: _Scope, targets: set):
    """Nodes and edges of one scope level: its own ops, its sub-scopes, and stubs for outside inputs."""
    depth = len(scope.parts)
    nodes: dict = {}
    member_ops = tree.subtree_ops(scope)
    for op in scope.ops:
        # Relative to the scope; the op that names the scope itself (`v` in `v/`) keeps its last component.
        if not scope.path:
            label = op._name
        elif op._name == scope.path:
            label = op._name.rpartition("/")[2]
        else:
            label = op._name[len(scope.path) + 1:]
        nodes[op] = _Node(op, label, op._type, _op_kind(op, targets), _op_title(op), op._id)
    first_id: dict = {}
    for op in member_ops:
        home = tree.home[op]
        if len(home) > depth:
            comp = home[depth]
            first_id[comp] = min(first_id.get(comp, op._id), op._id)
    for comp, child in scope.children.items():
        kind = "gc-scope"
        if any(o in targets for o in tree.subtree_ops(child)):
            kind += " gc-target"
        nodes[("scope", comp)] = _Node(("scope", comp), comp + "/", f"{child.size} op{'s' if child.size != 1 else ''}",
                                       kind, f"name scope {child.path}/ ({child.size} ops): expand it below",
                                       first_id.get(comp, 0))

    def key_of(op):
        home = tree.home.get(op)
        if home is None or home[:depth] != scope.parts:
            return None                       # outside this scope
        if len(home) == depth:
            return op
        return ("scope", home[depth])

    edges: dict = {}                          # (src_key, dst_key, control) -> [titles]
    for op in member_ops:
        dst = key_of(op)
        sources = [(t.op, False, f"{t.name}: {t.dtype.name} {t.shape}") for t in op._inputs]
        sources += [(c, True, f"^{c._name} (control)") for c in op._control_inputs]
        for src_op, control, title in sources:
            src = key_of(src_op)
            if src is None:
                if src_op not in tree.home:   # not drawn at all (outside a subgraph view)
                    continue
                src = ("ext", src_op._name)
                if src not in nodes:
                    nodes[src] = _Node(src, src_op._name, "from outside", "gc-ext",
                                       f"input from outside this scope: {src_op._name} ({src_op._type})",
                                       src_op._id)
            if src == dst:
                continue
            edges.setdefault((src, dst, control), []).append(title)
    return _group_outside_inputs(nodes, edges)


def _group_outside_inputs(nodes: dict, edges: dict):
    """Many inputs from outside a scope (an optimizer's update, the gradients) would make one row thousands
    of pixels wide: beyond `_MAX_OUTSIDE` they are drawn as one stub per top-level scope they come from
    (`dense_1/… 3 inputs`), and beyond that many groups the smallest ones share a last `… more` stub."""
    outside = [k for k in nodes if isinstance(k, tuple) and k[0] == "ext"]
    if len(outside) <= _MAX_OUTSIDE:
        return list(nodes.values()), edges
    groups: dict = {}
    for key in sorted(outside, key=lambda k: nodes[k].order):
        name = key[1]
        top = name.split("/")[0]
        groups.setdefault(top + "/\u2026" if "/" in name else top, []).append(key)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    if len(ordered) > _MAX_OUTSIDE:
        rest = [k for _, keys in ordered[_MAX_OUTSIDE - 1:] for k in keys]
        ordered = ordered[:_MAX_OUTSIDE - 1] + [(f"{len(ordered) - _MAX_OUTSIDE + 1} more scopes", rest)]
    group_of: dict = {}                        # outside key -> its group's key
    kept = {k: n for k, n in nodes.items() if k not in set(outside)}
    for label, keys in ordered:
        if len(keys) == 1:                     # a group of one is the input itself
            kept[keys[0]] = nodes[keys[0]]
            continue
        group_key = ("ext-group", label)
        names = [nodes[k].label for k in keys]
        count = f"{len(names)} input{'s' if len(names) != 1 else ''}"
        kept[group_key] = _Node(group_key, label, f"{count} from outside", "gc-ext",
                                f"{count} from outside this scope:\n" + "\n".join(names),
                                min(nodes[k].order for k in keys))
        group_of.update((k, group_key) for k in keys)
    grouped_edges: dict = {}
    for (src, dst, control), titles in edges.items():
        grouped_edges.setdefault((group_of.get(src, src), dst, control), []).extend(titles)
    return list(kept.values()), grouped_edges


def _layout(nodes: list, edges: dict) -> tuple[float, float]:
    """Longest-path layers (edges that go back in creation order are ignored), barycenter order."""
    nodes.sort(key=lambda n: n.order)
    rank = {n.key: i for i, n in enumerate(nodes)}
    by_key = {n.key: n for n in nodes}
    preds: dict = {n.key: [] for n in nodes}
    for (src, dst, _control) in edges:
        if rank[src] < rank[dst]:             # forward in creation order: a DAG by construction
            preds[dst].append(src)
    succs: dict = {n.key: [] for n in nodes}
    for dst, ps in preds.items():
        for p in ps:
            succs[p].append(dst)
    for n in nodes:
        n.layer = max((by_key[p].layer + 1 for p in preds[n.key]), default=0)
    # Sources (constants, placeholders) sit just above their first consumer, not all on the top row.
    for n in nodes:
        if not preds[n.key] and succs[n.key]:
            n.layer = max(0, min(by_key[d].layer for d in succs[n.key]) - 1)
    layers: dict[int, list] = {}
    for n in nodes:
        layers.setdefault(n.layer, []).append(n)
    position: dict = {}
    rows: list = []                           # drawn rows: a layer wider than _MAX_ROW_W wraps onto several
    for depth in sorted(layers):
        row = layers[depth]
        if depth > 0:
            def bary(n, row_index={id(m): i for i, m in enumerate(row)}):
                ps = [position[p] for p in preds[n.key] if p in position]
                return (sum(ps) / len(ps)) if ps else float(row_index[id(n)])
            row.sort(key=bary)
        current, x = [], 0.0
        for n in row:
            if current and x + n.w > _MAX_ROW_W:
                rows.append(current)
                current, x = [], 0.0
            n.x = x
            x += n.w + _COL_GAP
            position[n.key] = n.x + n.w / 2
            current.append(n)
        rows.append(current)
    for i, row in enumerate(rows):
        for n in row:
            n.y = i * (_NODE_H + _ROW_GAP)
    width = max((sum(n.w + _COL_GAP for n in row) - _COL_GAP for row in rows), default=0.0)
    for row in rows:                          # center each row under the widest one
        row_w = sum(n.w + _COL_GAP for n in row) - _COL_GAP
        shift = (width - row_w) / 2
        for n in row:
            n.x += shift
    height = len(rows) * (_NODE_H + _ROW_GAP) - _ROW_GAP if rows else 0.0
    return width, height


def _svg(nodes: list, edges: dict, uid: str) -> str:
    width, height = _layout(nodes, edges)
    pad = 10
    by_key = {n.key: n for n in nodes}
    if any(by_key[dst].y <= by_key[src].y for src, dst, _ in edges):
        width += 50                           # room for back edges, which loop around on the right
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 2 * pad:.0f}" '
           f'height="{height + 2 * pad:.0f}" viewBox="{-pad} {-pad} {width + 2 * pad:.0f} {height + 2 * pad:.0f}">',
           f'<defs><marker id="{uid}a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a8a8a"/></marker></defs>']
    for (src, dst, control), titles in edges.items():
        a, b = by_key[src], by_key[dst]
        x1, y1 = a.x + a.w / 2, a.y + _NODE_H
        x2, y2 = b.x + b.w / 2, b.y
        if y2 <= y1:                          # back edge (cycle through a folded scope): loop around
            y1, y2 = a.y + _NODE_H / 2, b.y + _NODE_H / 2
            x1 = a.x + a.w
            x2 = b.x + b.w
            bend = max(x1, x2) + 40
            d = f"M{x1:.1f},{y1:.1f} C{bend:.1f},{y1:.1f} {bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        else:
            dy = (y2 - y1) / 2
            d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + dy:.1f} {x2:.1f},{y2 - dy:.1f} {x2:.1f},{y2:.1f}"
        title = titles[0] if len(titles) == 1 else f"{len(titles)} tensors: " + ", ".join(titles[:8])
        cls = "gc-ctrl" if control else "gc-edge"
        out.append(f'<path class="{cls}" d="{d}" marker-end="url(#{uid}a)"><title>{_esc(title)}</title></path>')
    for n in nodes:
        rx = 9 if "gc-scope" in n.kind else 3
        out.append(f'<g class="{n.kind}"><title>{_esc(n.title)}</title>'
                   f'<rect x="{n.x:.1f}" y="{n.y:.1f}" width="{n.w:.0f}" height="{_NODE_H}" rx="{rx}"/>'
                   f'<text x="{n.x + n.w / 2:.1f}" y="{n.y + 14:.1f}" text-anchor="middle">{_esc(_shorten(n.label))}</text>'
                   f'<text class="gc-type" x="{n.x + n.w / 2:.1f}" y="{n.y + 28:.1f}" text-anchor="middle">'
                   f'{_esc(_shorten(n.sub))}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _render_scope(tree: _ScopeTree, path: str, targets: set, uid: str, top: bool = False) -> str:
    scope = tree.scopes[path]
    nodes, edges = _level(tree, scope, targets)
    body = [f'<div class="gc-scroll">{_svg(nodes, edges, f"{uid}s{next(_render_ids)}")}</div>']
    for child in sorted(scope.children.values(), key=lambda s: s.path):
        body.append(_render_scope(tree, child.path, targets, uid))
    if top:
        return "".join(body)
    # Small scopes start open so that a typical lecture graph reads without clicking.
    is_open = ' open="open"' if scope.size <= 12 and len(scope.parts) <= 1 else ""
    return (f'<details{is_open}><summary>name scope <b>{_esc(path)}/</b> ({scope.size} op'
            f'{"s" if scope.size != 1 else ""})</summary>' + "".join(body) + "</details>")


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def graph_ops(obj: Any) -> Iterable:
    """The ops `render_graph_html(obj)` draws (for tests and tools)."""
    return _collect(obj)[0]
