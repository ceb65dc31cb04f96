"""Writes notebooks/*.ipynb (without outputs) from the cell sources below.

Edit the cells here, then run `python tools/make_notebooks.py`; `--check` exits 1 when a committed
notebook differs from what this script would write (tests/test_notebooks.py runs that check).
Every notebook is plain TF1 code with `import graphcompat as tf`.
"""
from __future__ import annotations

import argparse
import os
import sys

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")

SETUP = """\
import numpy as np
import graphcompat as tf          # TF1 programs: `import tensorflow as tf` becomes this line
import graphcompat"""

# ------------------------------------------------------------------------------------------------
NB1 = [
    ("md", """\
# 1. Graphs and sessions

TensorFlow 1.x separates *defining* a computation from *running* it. Ops are recorded into a graph;
a `tf.Session` executes the part of the graph that the requested values need. graphcompat records the
same graph (same op names, shapes, dtypes) and runs it with JAX."""),
    ("code", SETUP),
    ("md", "## Building a graph computes nothing\n\n`tf.add` returns a symbolic `Tensor`, not a number."),
    ("code", """\
a = tf.constant(2, name="a")
b = tf.constant(3, name="b")
x = tf.add(a, b)
print(x)"""),
    ("md", "A `Tensor` is `<op name>:<output index>`. Its value exists only inside a session:"),
    ("code", """\
with tf.Session() as sess:
    print(sess.run(x))"""),
    ("md", """\
## Look at the graph

In a notebook a graph, a tensor or an op displays as a picture of the (sub)graph: inputs on top, name
scopes as boxes with a collapsible block below. Hover over a node or an edge for the full name, dtype
and shape."""),
    ("code", "tf.get_default_graph()"),
    ("md", """\
## Subgraphs: only what a fetch needs runs

`sess.run(fetches)` prunes the graph to the ops the fetches depend on. `useless` below is never
computed when we fetch `pow_op`."""),
    ("code", """\
tf.reset_default_graph()
x, y = 2, 3
add_op = tf.add(x, y)
mul_op = tf.multiply(x, y)
useless = tf.multiply(x, add_op)
pow_op = tf.pow(add_op, mul_op)
with tf.Session() as sess:
    z = sess.run(pow_op)
print(z)"""),
    ("md", "Fetch several values in one run by passing a list (or tuple, dict, namedtuple):"),
    ("code", """\
with tf.Session() as sess:
    z, not_useless = sess.run([pow_op, useless])
    as_dict = sess.run({"pow": pow_op, "mul": mul_op})
print(z, not_useless, as_dict)"""),
    ("md", "The picture of `pow_op` shows exactly the subgraph that runs:"),
    ("code", "pow_op"),
    ("md", """\
## Names

Default op names are the op type (`Add`, `Mul`, `Pow`); Python operators use lower-case names
(`a + b` is `add`). A name already taken gets `_1`, `_2` … Name scopes prefix names."""),
    ("code", """\
tf.reset_default_graph()
a = tf.constant([1.0, 2.0], name="a")
b = tf.constant([3.0, 4.0], name="b")
s1 = tf.add(a, b)
s2 = a + b
s3 = tf.add(a, b, name="total")
with tf.name_scope("stats"):
    mean = tf.reduce_mean(s3)
    scaled = mean * 10.0
print([t.name for t in (s1, s2, s3, mean, scaled)])
print([op.name for op in tf.get_default_graph().get_operations()])"""),
    ("md", "Look a tensor up by name, and look at the graph with its `stats` scope:"),
    ("code", """\
g = tf.get_default_graph()
print(g.get_tensor_by_name("stats/mul:0") is scaled)
g"""),
    ("md", """\
## More than one graph

Ops go into the default graph unless another graph is made the default with `as_default()`. A session
runs one graph."""),
    ("code", """\
g1 = tf.get_default_graph()
g2 = tf.Graph()
with g2.as_default():
    c = tf.constant(5.0, name="c")
    d = c * 3.0
print(c.graph is g2, c.graph is g1)
with tf.Session(graph=g2) as sess:
    print(sess.run(d))"""),
    ("md", """\
## The GraphDef

`as_graph_def()` returns TensorFlow's own protobuf, which TensorBoard and TF tools read."""),
    ("code", """\
graph_def = g2.as_graph_def()
print(type(graph_def).__name__, len(graph_def.node), "nodes")
print(graph_def.node[0])"""),
]

# ------------------------------------------------------------------------------------------------
NB2 = [
    ("md", """\
# 2. Constants, variables, placeholders

Constants are stored in the graph; variables live in a session and must be initialized; placeholders
are values you feed when you run."""),
    ("code", SETUP),
    ("md", "## Constants and tensor-filling ops"),
    ("code", """\
a = tf.constant([2, 2], name="a")
b = tf.constant([[0, 1], [2, 3]], name="b")
zeros = tf.zeros([2, 3], tf.int32)
ones_like = tf.ones_like(b)
filled = tf.fill([2, 3], 8)
lin = tf.linspace(10.0, 13.0, 4)
rng = tf.range(3, 18, 3)
with tf.Session() as sess:
    for t in (a + b, tf.multiply(a, b), zeros, ones_like, filled, lin, rng):
        print(t.name, sess.run(t).tolist())"""),
    ("md", """\
Constants are part of the graph definition: a large constant makes the graph large. Use variables
(or `tf.data`) for big data."""),
    ("code", """\
big = tf.constant(np.arange(1000, dtype=np.float32), name="big")
print(len(tf.get_default_graph().as_graph_def().SerializeToString()), "bytes of GraphDef")"""),
    ("md", "## Variables\n\n`tf.Variable` is a class; `tf.get_variable` creates (or reuses) a named variable."),
    ("code", """\
tf.reset_default_graph()
s = tf.Variable(2, name="scalar")
m = tf.Variable([[0, 1], [2, 3]], name="matrix")
W = tf.Variable(tf.zeros([784, 10]), name="W")
V = tf.get_variable("big_matrix", shape=(784, 10), initializer=tf.zeros_initializer())
print(s, m, W, V, sep="\\n")"""),
    ("md", """\
A variable is three ops: `VariableV2` holds the value, `Assign` (its `initializer`) sets it from the initial
value, and `read` is what other ops consume. A variable as a cell's last line draws them:"""),
    ("code", "W"),
    ("md", "Reading a variable before it is initialized is an error, as in TensorFlow:"),
    ("code", """\
with tf.Session() as sess:
    try:
        sess.run(W)
    except tf.errors.FailedPreconditionError as e:
        print(type(e).__name__, ":", e.message)"""),
    ("code", """\
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())     # all at once
    print(sess.run(s), sess.run(m).tolist())
with tf.Session() as sess:
    sess.run(tf.variables_initializer([s, m]))     # a subset
    sess.run(W.initializer)                        # one
    print(W.eval().shape)"""),
    ("md", """\
## The assign pitfall

`W.assign(100)` *creates an op*. Nothing changes until that op runs."""),
    ("code", """\
tf.reset_default_graph()
W = tf.Variable(10)
W.assign(100)                        # an op that is never run
with tf.Session() as sess:
    sess.run(W.initializer)
    print(W.eval())                  # still 10

assign_op = W.assign(100)
with tf.Session() as sess:
    sess.run(W.initializer)
    sess.run(assign_op)
    print(W.eval())                  # 100"""),
    ("md", "Each run of an assign op applies it again; each session has its own copy of the variable:"),
    ("code", """\
my_var = tf.Variable(2, name="my_var")
my_var_times_two = my_var.assign(2 * my_var)
with tf.Session() as sess:
    sess.run(my_var.initializer)
    print([sess.run(my_var_times_two) for _ in range(3)])   # 4, 8, 16

sess1, sess2 = tf.Session(), tf.Session()
sess1.run(my_var.initializer)
sess2.run(my_var.initializer)
print(sess1.run(my_var.assign_add(10)), sess2.run(my_var.assign_sub(2)))
sess1.close(); sess2.close()"""),
    ("md", """\
## Placeholders and feed_dict

A placeholder is a promise to supply a value at run time."""),
    ("code", """\
tf.reset_default_graph()
a = tf.placeholder(tf.float32, shape=[3], name="a")
b = tf.constant([5, 5, 5], tf.float32)
c = a + b
with tf.Session() as sess:
    print(sess.run(c, feed_dict={a: [1, 2, 3]}))
    for value in ([0, 0, 0], [10, 20, 30]):
        print(sess.run(c, {a: value}))"""),
    ("md", "Forgetting the feed, or feeding the wrong shape, gives TensorFlow's errors:"),
    ("code", """\
with tf.Session() as sess:
    try:
        sess.run(c)
    except tf.errors.InvalidArgumentError as e:
        print(type(e).__name__, ":", e.message)
    try:
        sess.run(c, {a: [1, 2]})
    except ValueError as e:
        print("ValueError :", e)"""),
    ("md", "Any tensor can be fed, not only placeholders; its producers then do not run:"),
    ("code", """\
x = tf.add(2, 5)
y = tf.multiply(x, 3)
with tf.Session() as sess:
    print(sess.run(y), sess.run(y, feed_dict={x: 15}))"""),
    ("md", """\
## Lazy loading: create ops once, outside the loop

Creating an op inside a training loop adds a node on every iteration: the graph grows and each run is a
new computation."""),
    ("code", """\
tf.reset_default_graph()
x = tf.Variable(10, name="x")
y = tf.Variable(20, name="y")
z = tf.add(x, y)                          # normal loading: one Add op
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(5):
        sess.run(z)
    n_normal = len(tf.get_default_graph().get_operations())
    for _ in range(5):
        sess.run(tf.add(x, y))            # lazy loading: five new Add ops
    n_lazy = len(tf.get_default_graph().get_operations())
print(n_normal, "ops, then", n_lazy)"""),
]

# ------------------------------------------------------------------------------------------------
NB3 = [
    ("md", """\
# 3. Linear regression

Fit `y = w * x + b` to noisy data, first feeding one sample at a time through placeholders, then
reading the data with `tf.data`."""),
    ("code", SETUP + "\nimport matplotlib.pyplot as plt"),
    ("code", """\
rng = np.random.RandomState(0)
n_samples = 60
data_x = rng.uniform(0.0, 10.0, n_samples).astype(np.float32)
data_y = (3.5 * data_x + 1.2 + rng.normal(0.0, 1.5, n_samples)).astype(np.float32)"""),
    ("md", "## With placeholders"),
    ("code", """\
tf.reset_default_graph()
X = tf.placeholder(tf.float32, name="X")
Y = tf.placeholder(tf.float32, name="Y")
w = tf.get_variable("weights", initializer=tf.constant(0.0))
b = tf.get_variable("bias", initializer=tf.constant(0.0))
Y_predicted = w * X + b
loss = tf.square(Y - Y_predicted, name="loss")
optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.001).minimize(loss)"""),
    ("code", """\
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(30):
        total = 0.0
        for x_i, y_i in zip(data_x, data_y):
            _, l = sess.run([optimizer, loss], feed_dict={X: x_i, Y: y_i})
            total += l
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: mean loss {total / n_samples:.3f}")
    w_out, b_out = sess.run([w, b])
print(f"w = {w_out:.3f}, b = {b_out:.3f}")"""),
    ("code", """\
plt.scatter(data_x, data_y, s=12, label="data")
xs = np.linspace(0, 10, 2)
plt.plot(xs, w_out * xs + b_out, "r", label=f"fit: {w_out:.2f} x + {b_out:.2f}")
plt.legend(); plt.xlabel("x"); plt.ylabel("y")
plt.show()"""),
    ("md", """\
## A robust loss with tf.where

The Huber loss is quadratic for small residuals and linear for large ones, so outliers pull less."""),
    ("code", """\
def huber_loss(labels, predictions, delta=14.0):
    residual = tf.abs(labels - predictions)
    small_res = 0.5 * tf.square(residual)
    large_res = delta * residual - 0.5 * tf.square(delta)
    return tf.where(residual < delta, small_res, large_res)

with tf.Session() as sess:
    print(sess.run(huber_loss(tf.constant([0.0, 0.0]), tf.constant([1.0, 20.0]))))"""),
    ("md", """\
## With tf.data

Feeding one number per `sess.run` spends most of the time in Python. A `Dataset` keeps the data in the
graph; the iterator's `get_next()` yields the next element on every run and raises `OutOfRangeError` at
the end of an epoch."""),
    ("code", """\
tf.reset_default_graph()
dataset = tf.data.Dataset.from_tensor_slices((data_x, data_y)).batch(10)
iterator = dataset.make_initializable_iterator()
X, Y = iterator.get_next()
w = tf.get_variable("weights", initializer=tf.constant(0.0))
b = tf.get_variable("bias", initializer=tf.constant(0.0))
Y_predicted = w * X + b
loss = tf.reduce_mean(tf.square(Y - Y_predicted), name="loss")
optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.01).minimize(loss)
print(dataset.output_types, dataset.output_shapes)"""),
    ("code", """\
losses = []
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(100):
        sess.run(iterator.initializer)
        try:
            while True:
                _, l = sess.run([optimizer, loss])
                losses.append(l)
        except tf.errors.OutOfRangeError:
            pass
    w_out, b_out = sess.run([w, b])
print(f"w = {w_out:.3f}, b = {b_out:.3f}")"""),
    ("code", """\
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.scatter(data_x, data_y, s=12)
ax1.plot(xs, w_out * xs + b_out, "r")
ax1.set_title("fit with tf.data")
ax2.plot(losses)
ax2.set_yscale("log"); ax2.set_title("loss per batch")
plt.show()"""),
    ("md", "The graph, with the optimizer's gradient and update ops:"),
    ("code", "tf.get_default_graph()"),
]

# ------------------------------------------------------------------------------------------------
NB4 = [
    ("md", """\
# 4. Optimizers compared

The same problem (a small two-layer regression network) trained by each of TF1's optimizers, from the
same initial weights, on the same mini-batches."""),
    ("code", SETUP + "\nimport matplotlib.pyplot as plt"),
    ("code", """\
rng = np.random.RandomState(1)
features = rng.normal(size=(256, 4)).astype(np.float32)
true_w = np.array([[1.5], [-2.0], [0.5], [3.0]], np.float32)
targets = np.tanh(features @ true_w) + 0.05 * rng.normal(size=(256, 1)).astype(np.float32)
w1_init = (0.5 * rng.normal(size=(4, 16))).astype(np.float32)
w2_init = (0.5 * rng.normal(size=(16, 1))).astype(np.float32)
batches = [rng.choice(256, 32, replace=False) for _ in range(200)]"""),
    ("code", """\
def train(make_optimizer, steps=200):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        with tf.variable_scope("net"):
            w1 = tf.get_variable("w1", initializer=w1_init)
            b1 = tf.get_variable("b1", initializer=tf.zeros([16]))
            w2 = tf.get_variable("w2", initializer=w2_init)
            hidden = tf.tanh(tf.matmul(x, w1) + b1)
            prediction = tf.matmul(hidden, w2)
        loss = tf.reduce_mean(tf.square(prediction - y))
        optimizer = make_optimizer()
        train_op = optimizer.minimize(loss)
        slots = optimizer.get_slot_names()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            history = []
            for idx in batches[:steps]:
                _, l = sess.run([train_op, loss], {x: features[idx], y: targets[idx]})
                history.append(l)
            variables = [v.op.name for v in tf.global_variables()]
    return history, slots, variables"""),
    ("code", """\
optimizers = {
    "GradientDescent": lambda: tf.train.GradientDescentOptimizer(0.05),
    "Momentum": lambda: tf.train.MomentumOptimizer(0.05, momentum=0.9),
    "Nesterov": lambda: tf.train.MomentumOptimizer(0.05, momentum=0.9, use_nesterov=True),
    "Adagrad": lambda: tf.train.AdagradOptimizer(0.1),
    "RMSProp": lambda: tf.train.RMSPropOptimizer(0.01),
    "Adam": lambda: tf.train.AdamOptimizer(0.01),
}
results = {}
for name, make in optimizers.items():
    history, slots, variables = train(make)
    results[name] = history
    print(f"{name:16s} final loss {np.mean(history[-20:]):.4f}  slots {slots}")"""),
    ("md", "Slot variables get TF's names (they are checkpoint keys), e.g. for Adam:"),
    ("code", "print(train(optimizers[\"Adam\"], steps=1)[2])"),
    ("code", """\
plt.figure(figsize=(8, 4))
for name, history in results.items():
    plt.plot(np.convolve(history, np.ones(10) / 10, mode="valid"), label=name)
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("loss (moving average)")
plt.legend(); plt.title("Optimizers on the same problem")
plt.show()"""),
]

# ------------------------------------------------------------------------------------------------
NB5 = [
    ("md", """\
# 5. word2vec: skip-gram with NCE loss

A skip-gram model learns an embedding per word by predicting the words around it. The full softmax over
the vocabulary is replaced by noise-contrastive estimation (`tf.nn.nce_loss`). The corpus is generated:
words belong to topics, and a sentence draws its words from one topic, so words of a topic should end up
close together. Along the way: name scopes, a `Saver` for checkpoints and summaries for TensorBoard."""),
    ("code", SETUP + "\nimport os\nimport tempfile\nimport matplotlib.pyplot as plt"),
    ("md", "## A small generated corpus"),
    ("code", """\
rng = np.random.RandomState(42)
TOPICS = ["animal", "food", "city", "sport"]
WORDS_PER_TOPIC = 8
vocab = [f"{t}{i}" for t in TOPICS for i in range(WORDS_PER_TOPIC)]
VOCAB_SIZE = len(vocab)
topic_of = np.repeat(np.arange(len(TOPICS)), WORDS_PER_TOPIC)

sentences = []
for _ in range(400):
    topic = rng.randint(len(TOPICS))
    sentences.append(rng.randint(WORDS_PER_TOPIC, size=10) + topic * WORDS_PER_TOPIC)

SKIP_WINDOW = 2
centers, contexts = [], []
for sentence in sentences:
    for i, center in enumerate(sentence):
        for j in range(max(0, i - SKIP_WINDOW), min(len(sentence), i + SKIP_WINDOW + 1)):
            if j != i:
                centers.append(center)
                contexts.append(sentence[j])
centers = np.array(centers, np.int32)
contexts = np.array(contexts, np.int32)[:, None]        # nce_loss wants labels of shape [batch, 1]
print(len(centers), "training pairs;", " ".join(vocab[w] for w in sentences[0]))"""),
    ("md", "## The model, organized with name scopes"),
    ("code", """\
BATCH_SIZE = 64
EMBED_SIZE = 16
NUM_SAMPLED = 8
LEARNING_RATE = 0.5
tf.reset_default_graph()
tf.set_random_seed(7)

with tf.name_scope("data"):
    dataset = tf.data.Dataset.from_tensor_slices((centers, contexts))
    dataset = dataset.shuffle(1000, seed=1).repeat().batch(BATCH_SIZE)
    iterator = dataset.make_one_shot_iterator()
    center_words, target_words = iterator.get_next()

with tf.name_scope("embed"):
    embed_matrix = tf.get_variable("embed_matrix", shape=[VOCAB_SIZE, EMBED_SIZE],
                                   initializer=tf.random_uniform_initializer(-1.0, 1.0))
    embed = tf.nn.embedding_lookup(embed_matrix, center_words, name="embedding")

with tf.name_scope("loss"):
    nce_weight = tf.get_variable("nce_weight", shape=[VOCAB_SIZE, EMBED_SIZE],
                                 initializer=tf.truncated_normal_initializer(stddev=1.0 / EMBED_SIZE ** 0.5))
    nce_bias = tf.get_variable("nce_bias", initializer=tf.zeros([VOCAB_SIZE]))
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weight, biases=nce_bias, labels=target_words,
                                         inputs=embed, num_sampled=NUM_SAMPLED, num_classes=VOCAB_SIZE),
                          name="loss")

with tf.name_scope("optimizer"):
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss, global_step=global_step)

with tf.name_scope("summaries"):
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("embeddings", embed_matrix)
    summary_op = tf.summary.merge_all()"""),
    ("md", "The graph: each name scope is one box; open the blocks below the picture to see inside."),
    ("code", "tf.get_default_graph()"),
    ("md", "## Training, with summaries and checkpoints"),
    ("code", """\
workdir = tempfile.mkdtemp(prefix="word2vec-")
checkpoint_dir = os.path.join(workdir, "checkpoints")
os.makedirs(checkpoint_dir)
saver = tf.train.Saver(max_to_keep=3)
NUM_STEPS = 1200

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(os.path.join(workdir, "logs"), sess.graph)
    total = 0.0
    for step in range(1, NUM_STEPS + 1):
        if step % 20 == 0:      # summaries every 20 steps: serializing them each step costs time
            l, _, summary = sess.run([loss, optimizer, summary_op])
            writer.add_summary(summary, global_step=step)
        else:
            l, _ = sess.run([loss, optimizer])
        total += l
        if step % 300 == 0:
            print(f"step {step}: average loss {total / 300:.3f}")
            total = 0.0
            saver.save(sess, os.path.join(checkpoint_dir, "word2vec"), global_step=global_step)
    writer.close()
print(sorted(os.listdir(checkpoint_dir)))"""),
    ("md", "Restore the latest checkpoint into a fresh session and read the embeddings:"),
    ("code", """\
with tf.Session() as sess:
    ckpt = tf.train.get_checkpoint_state(checkpoint_dir)
    saver.restore(sess, ckpt.model_checkpoint_path)
    print("restored", os.path.basename(ckpt.model_checkpoint_path), "at step", sess.run(global_step))
    final_embed = sess.run(embed_matrix)"""),
    ("md", "## A 2-D projection of the embeddings (PCA via SVD)"),
    ("code", """\
normalized = final_embed / np.linalg.norm(final_embed, axis=1, keepdims=True)
centered = normalized - normalized.mean(axis=0)
_, _, vt = np.linalg.svd(centered, full_matrices=False)
points = centered @ vt[:2].T

plt.figure(figsize=(6, 6))
for t, topic in enumerate(TOPICS):
    sel = topic_of == t
    plt.scatter(points[sel, 0], points[sel, 1], label=topic)
for i, word in enumerate(vocab):
    plt.annotate(word, points[i], fontsize=7)
plt.legend(); plt.title("skip-gram embeddings, first two principal components")
plt.show()"""),
    ("md", "Words of one topic should be closer to each other than to other words (cosine similarity):"),
    ("code", """\
similarity = normalized @ normalized.T
same = topic_of[:, None] == topic_of[None, :]
off_diagonal = ~np.eye(VOCAB_SIZE, dtype=bool)
within = similarity[same & off_diagonal].mean()
across = similarity[~same].mean()
print(f"mean similarity within a topic {within:.3f}, across topics {across:.3f}")"""),
]

# ------------------------------------------------------------------------------------------------
NB6 = [
    ("md", """\
# 6. Devices and the compile cache

TF1 places ops on devices with `tf.device`; graphcompat records the placement and runs each
`sess.run` on one JAX device. Each distinct `sess.run` signature (which tensors are fetched, which are
fed) becomes a *plan*. A one-off fetch runs op by op, with no compile wait; a signature that recurs,
or that is obviously a loop body (a training step, an input-pipeline step, a large graph), is compiled
into one XLA executable and every later run reuses it. A compilation that takes more than about a
second prints one line saying what is compiling. `graphcompat.stats()` counts all of this."""),
    ("code", SETUP + "\nimport jax\nprint(jax.devices())"),
    ("md", "## Placement"),
    ("code", """\
with tf.device("/cpu:0"):
    a = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape=[2, 3], name="a")
    b = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape=[3, 2], name="b")
with tf.device("/device:GPU:0"):
    c = tf.matmul(a, b)
print(repr(a.device), repr(c.device))"""),
    ("md", """\
`log_device_placement` prints where each op of a run goes. Without a GPU the GPU request falls back to
the CPU (soft placement):"""),
    ("code", """\
config = tf.ConfigProto(log_device_placement=True, allow_soft_placement=True)
with tf.Session(config=config) as sess:
    print(sess.run(c))"""),
    ("md", "## How many compilations does a training loop cost?"),
    ("code", """\
tf.reset_default_graph()
rng = np.random.RandomState(0)
x = tf.placeholder(tf.float32, [None, 8], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
w = tf.Variable(tf.zeros([8, 1]), name="w")
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
batch = lambda n=32: {x: rng.normal(size=(n, 8)), y: rng.normal(size=(n, 1))}"""),
    ("md", """\
`tf.show_graph(t)` draws the subgraph a tensor or op needs, anywhere in a cell (outside Jupyter it writes
an .html file). An optimizer's scopes read many tensors from elsewhere; their inputs are grouped by the
scope they come from (hover a dashed box for the list), and wide rows wrap to the notebook's width."""),
    ("code", "tf.show_graph(train_op)"),
    ("code", """\
sess = tf.Session()
sess.run(w.initializer)
graphcompat.reset_stats()
for step in range(100):
    sess.run([train_op, loss], batch())
graphcompat.stats()"""),
    ("md", """\
One plan and one compilation for the whole loop: every other step reused the executable. Fetching
something *else* now and then adds one plan per distinct fetch list (the evaluation fetch below runs
op by op first, and compiles when it comes back):"""),
    ("code", """\
graphcompat.reset_stats()
for step in range(100):
    if step % 10 == 0:
        sess.run(loss, batch())          # evaluation fetch: a second signature
    sess.run(train_op, batch())          # the training step without the loss: a third
graphcompat.stats()"""),
    ("md", """\
Creating ops inside the loop is the expensive mistake: every iteration is a brand-new graph element,
hence a new plan (it only ever runs op by op, and the graph keeps growing):"""),
    ("code", """\
graphcompat.reset_stats()
n_before = len(tf.get_default_graph().get_operations())
for step in range(20):
    sess.run(tf.reduce_sum(w) * 2.0)     # new ops on every iteration
print(len(tf.get_default_graph().get_operations()) - n_before, "ops added")
graphcompat.stats()"""),
    ("md", """\
A new batch *size* is a new input shape, which XLA compiles separately (once per shape); the step
that meets a new size is much slower than the others. Keep batch sizes fixed in hot loops
(`drop_remainder=True` in `tf.data`):"""),
    ("code", """\
import time
for n in (32, 32, 17, 17, 32, 9, 9):
    feed = batch(n)
    start = time.perf_counter()
    sess.run(train_op, feed)
    print(f"batch of {n:2d}: {1000 * (time.perf_counter() - start):7.2f} ms")
sess.close()"""),
]

NOTEBOOKS = {
    "01_graphs_and_sessions.ipynb": NB1,
    "02_constants_variables_placeholders.ipynb": NB2,
    "03_linear_regression.ipynb": NB3,
    "04_optimizers.ipynb": NB4,
    "05_word2vec.ipynb": NB5,
    "06_devices_and_compile_cache.ipynb": NB6,
}


def build(cells: list, stem: str) -> nbformat.NotebookNode:
    """A v4 notebook without outputs; cell ids are derived from the file name so output is stable."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"{stem}-{i:02d}"
        nb.cells.append(cell)
    return nb


def render(name: str) -> str:
    stem = name.split("_")[0]
    nb = build(NOTEBOOKS[name], f"nb{stem}")
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed notebook is stale")
    args = parser.parse_args(argv)
    os.makedirs(NOTEBOOK_DIR, exist_ok=True)
    stale = []
    for name in NOTEBOOKS:
        path = os.path.join(NOTEBOOK_DIR, name)
        text = render(name)
        if args.check:
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                stale.append(name)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote notebooks/{name}")
    if stale:
        print("stale notebooks (run python tools/make_notebooks.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
