"""tf.strings ops and lookup tables: values against Python references and real TensorFlow (exact hash
buckets included), TF's errors (bad numbers, substr bounds, table initialization and use)."""
import numpy as np
import pytest

import graphcompat as tf
from lowering import hashing
from tests import _op_oracle
from tests._conformance import Case

S = np.array([b"Hello World", b"  TensorFlow  ", "\u00fcn\u00ef c\u00f6d\u00e9".encode(), b""], dtype=object)
WORDS = ["", "a", "ab", "abc", "hello", "hello world!", "The quick brown fox jumps",
         "The quick brown fox jumps over the lazy dog",
         "The quick brown fox jumps over the lazy dog and then some more text to exceed 64 bytes ok", "x" * 200,
         "\u00fcn\u00ef"]


def _obj(values):
    return np.array([v.encode() if isinstance(v, str) else v for v in values], dtype=object)


# ------------------------------------------------------------------------------------------------
# Hashes: the exact values TF computed (StringToHashBucket* with 2**63 - 1 buckets)
# ------------------------------------------------------------------------------------------------
FAST = [1936946117179621456, 3694432073954588132, 3066228220894225695, 2640714258260161385, 3786372426573024489,
        4577883861590986596, 1503448500679765431, 3152101869897863477, 1842463487921097233, 4715616229117174720,
        4498363041676023474]
STRONG = [443797209252341628, 5158252350249958646, 9219471107255029106, 5862226954915230110, 2957200328589801622,
          4134433662751500284, 3282741567385410738, 4761918157535839729, 2116441615601317786, 6544777064179205003,
          7331097311890952139]
LEGACY = [105434511174508092, 2996632905371535868, 8190890202413169699, 5658311696057142710, 5943547241907780938,
          488105371118328303, 3669979927035252043, 6299166825487821026, 6342874553951876736, 1680667619926591871,
          1997748422726152026]


@pytest.mark.parametrize("fn, want", [(hashing.fingerprint64, FAST), (lambda s: hashing.siphash(1, 2, s), STRONG),
                                      (hashing.hash64, LEGACY)], ids=["fingerprint64", "siphash", "hash64"])
def test_hashes_match_tensorflow(fn, want):
    assert [fn(w.encode()) % (2 ** 63 - 1) for w in WORDS] == want


# ------------------------------------------------------------------------------------------------
# Conformance table (host ops: op by op)
# ------------------------------------------------------------------------------------------------
CASES = [
    Case("join", lambda tf, s: tf.strings.join([s, "x"], separator="-"), lambda s: _obj([v + b"-x" for v in s]),
         [S]),
    Case("string_join", lambda tf, s: tf.string_join([s, s]), lambda s: _obj([v + v for v in s]), [S]),
    Case("substr", lambda tf, s: tf.strings.substr(s, 1, 3), lambda s: _obj([v[1:4] for v in s[:3]]), [S[:3]]),
    Case("substr_negative", lambda tf, s: tf.substr(s, -3, 2), lambda s: _obj([v[-3:-1] for v in s[:3]]), [S[:3]]),
    Case("substr_utf8", lambda tf, s: tf.strings.substr(s, 1, 3, unit="UTF8_CHAR"),
         lambda s: _obj([v.decode()[1:4].encode() for v in s]), [S[:3]]),
    Case("length", lambda tf, s: [tf.strings.length(s), tf.strings.length(s, unit="UTF8_CHAR")],
         lambda s: [np.array([len(v) for v in s], np.int32), np.array([len(v.decode()) for v in s], np.int32)], [S]),
    Case("lower_upper", lambda tf, s: [tf.strings.lower(s), tf.strings.upper(s), tf.strings.upper(s, "utf-8")],
         lambda s: [_obj([v.lower() for v in s]), _obj([v.upper() for v in s]),
                    _obj([v.decode().upper().encode() for v in s])], [S]),
    Case("strip", lambda tf, s: tf.strings.strip(s), lambda s: _obj([v.strip() for v in s]), [S]),
    Case("regex_replace", lambda tf, s: [tf.strings.regex_replace(s, "o", "0"),
                                         tf.strings.regex_replace(s, r"(\w+) (\w+)", r"\2 \1"),
                                         tf.regex_replace(s, "l", "L", replace_global=False)],
         lambda s: [_obj([v.replace(b"o", b"0") for v in s]), _obj([b"World Hello"] + list(s[1:])),
                    _obj([v.replace(b"l", b"L", 1) for v in s])], [S]),
    Case("regex_full_match", lambda tf, s: tf.strings.regex_full_match(s, "[A-Z].*"),
         lambda s: np.array([True, False, False, False]), [S]),
    Case("to_number", lambda tf, s: tf.strings.to_number(s), lambda s: np.array([1.5, 2, -300], np.float32),
         [_obj(["1.5", " 2", "-3e2"])]),
    Case("to_number_int64", lambda tf, s: tf.string_to_number(s, tf.int64), lambda s: np.array([12, -3], np.int64),
         [_obj(["12", "-3"])]),
    Case("hash_fast", lambda tf, s: tf.strings.to_hash_bucket_fast(s, 2 ** 63 - 1), lambda s: np.array(FAST),
         [_obj(WORDS)]),
    Case("hash_strong", lambda tf, s: tf.strings.to_hash_bucket_strong(s, 2 ** 63 - 1, [1, 2]),
         lambda s: np.array(STRONG), [_obj(WORDS)]),
    Case("hash_legacy", lambda tf, s: tf.string_to_hash_bucket(s, 2 ** 63 - 1), lambda s: np.array(LEGACY),
         [_obj(WORDS)]),
    Case("reduce_join", lambda tf, s: [tf.strings.reduce_join(s), tf.reduce_join(s, 1, separator="-")],
         lambda s: [np.array(b"abcd", dtype=object), _obj(["a-b", "c-d"])], [np.array([[b"a", b"b"], [b"c", b"d"]],
                                                                                      dtype=object)]),
    Case("as_string", lambda tf, x: [tf.as_string(x), tf.as_string(x, precision=2), tf.as_string(x, scientific=True),
                                     tf.strings.as_string(x, shortest=True)],
         lambda x: [_obj(["%f" % v for v in x]), _obj(["%.2f" % v for v in x]), _obj(["%e" % v for v in x]),
                    _obj(["%g" % v for v in x])], [np.array([1.5, -2.25, 1234.5678], np.float32)]),
    Case("as_string_int", lambda tf, x: [tf.as_string(x), tf.as_string(x, width=4, fill="0")],
         lambda x: [_obj(["3", "-4"]), _obj(["0003", "-004"])], [np.array([3, -4], np.int64)]),
    Case("format", lambda tf, x: tf.strings.format("x={} y={}", [x, tf.constant("s")]),
         lambda x: np.array(b'x=[1 2 3] y="s"', dtype=object), [np.array([1, 2, 3], np.int32)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case):
    _op_oracle.check_case(case, compiles=False)


def test_split_is_sparse():
    sp = tf.strings.split(tf.constant(["a b  c", "d"]))
    sep = tf.strings.split(tf.constant(["a,b,,c", "d"]), sep=",", maxsplit=1)
    with tf.Session() as sess:
        value, value_sep = sess.run([sp, sep])
    assert value.values.tolist() == [b"a", b"b", b"c", b"d"] and value.dense_shape.tolist() == [2, 3]
    assert value_sep.values.tolist() == [b"a", b"b,,c", b"d"]


@pytest.mark.parametrize("build, message", [
    (lambda: tf.strings.to_number(["abc"]), "StringToNumberOp could not correctly convert string: abc"),
    (lambda: tf.strings.to_number(["1.5"], tf.int32), "StringToNumberOp could not correctly convert string: 1.5"),
    (lambda: tf.strings.to_number(["99999999999"], tf.int32),
     "StringToNumberOp could not correctly convert string: 99999999999"),
    (lambda: tf.strings.substr(tf.constant(["abc", ""]), 2, 1), "pos 2 out of range for string b'' at index 1"),
], ids=["to_number", "to_number_int", "to_number_overflow", "substr_pos"])
def test_runtime_errors(build, message):
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(build())
    assert info.value.message.splitlines()[0] == message


def test_format_build_error():
    with pytest.raises(ValueError, match="The template expects 2 tensors, but the inputs only has 1."):
        tf.strings.format("{} {}", [tf.constant(1)])


# ------------------------------------------------------------------------------------------------
# Lookup tables
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    paths = {"words": root / "words.txt", "dup": root / "dup.txt", "cols": root / "cols.txt"}
    paths["words"].write_text("emerson\nlake\npalmer\n")
    paths["dup"].write_text("a\t1\nb\t2\na\t3\n")
    paths["cols"].write_text("x\t7\t0.5\ny\t8\t1.5\n")
    return {k: str(v) for k, v in paths.items()}


def test_static_hash_table_lifecycle():
    init = tf.lookup.KeyValueTensorInitializer(["a", "b", "c"], [1, 2, 3], key_dtype=tf.string,
                                               value_dtype=tf.int64)
    table = tf.lookup.StaticHashTable(init, -1)
    out = table.lookup(tf.constant(["a", "z", "c"]))
    assert (out.op.type, out.op.name, table.resource_handle.op.type) == \
        ("LookupTableFindV2", "hash_table_Lookup/LookupTableFindV2", "HashTableV2")
    assert init_op_types() == ["InitializeTableV2"]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="Table not initialized."):
            sess.run(out)
        sess.run(tf.tables_initializer())
        sess.run(tf.tables_initializer())  # re-running the initializer is harmless
        np.testing.assert_array_equal(sess.run(out), [1, -1, 3])
        assert sess.run(table.size()) == 3
    with pytest.raises(TypeError, match="Dtype of argument `keys` must be"):
        table.lookup(tf.constant([1, 2]))


def init_op_types():
    return [op.type for op in tf.get_collection(tf.GraphKeys.TABLE_INITIALIZERS)]


def test_table_state_is_per_session(files):
    table = tf.contrib.lookup.index_table_from_file(files["words"], num_oov_buckets=2)
    ids = table.lookup(tf.constant(["palmer", "zz"]))
    with tf.Session() as one, tf.Session() as two:
        one.run(tf.tables_initializer())
        np.testing.assert_array_equal(one.run(ids), [2, 3 + hashing.fingerprint64(b"zz") % 2])
        with pytest.raises(tf.errors.FailedPreconditionError):
            two.run(ids)


def test_mutable_hash_table():
    table = tf.contrib.lookup.MutableHashTable(tf.string, tf.int64, -1)
    insert = table.insert(tf.constant(["a", "b"]), tf.constant([1, 2], tf.int64))
    remove = table.remove(tf.constant(["a"]))
    found = table.lookup(tf.constant(["a", "b", "q"]))
    keys, values = table.export()
    with tf.Session() as sess:
        assert sess.run(table.size()) == 0
        sess.run(insert)
        np.testing.assert_array_equal(sess.run(found), [1, 2, -1])
        sess.run(remove)
        np.testing.assert_array_equal(sess.run(found), [-1, 2, -1])
        exported_keys, exported_values = sess.run([keys, values])
        assert exported_keys.tolist() == [b"b"] and exported_values.tolist() == [2]


def _lookup_module(tf_):
    if tf_ is tf:
        return tf.contrib.lookup
    from tensorflow.python.ops import lookup_ops
    return lookup_ops


def _oracle_tables(files):
    return [
        ("static", lambda tf: tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            ["a", "b", "c"], [1, 2, 3], key_dtype=tf.string, value_dtype=tf.int64), -1).lookup(
            tf.constant(["a", "z", "c"]))),
        ("float_values", lambda tf: tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            [3, 1], [0.5, 1.5], key_dtype=tf.int64, value_dtype=tf.float32), 0.0).lookup(tf.constant([1, 2, 3],
                                                                                                      tf.int64))),
        ("text_file", lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            files["words"], tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER), -1).lookup(tf.constant(["lake", "x"]))),
        ("text_file_columns", lambda tf: [tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            files["cols"], tf.string, 0, tf.int64, 1), -1).lookup(tf.constant(["y", "x", "q"])),
            tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(files["cols"], tf.int64, 1, tf.float32, 2),
                                      -1.0).lookup(tf.constant([7, 8, 9], tf.int64))]),
        ("vocab_size", lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            files["words"], tf.string, -2, tf.int64, -1, vocab_size=2), -1).lookup(tf.constant(["lake", "palmer"]))),
        ("vocabulary_table", lambda tf: [tf.lookup.StaticVocabularyTable(tf.lookup.KeyValueTensorInitializer(
            ["a", "b", "c"], [0, 1, 2], value_dtype=tf.int64), 5).lookup(tf.constant(["a", "zz", "q", "hello"]))]),
        ("index_from_file", lambda tf: _lookup_module(tf).index_table_from_file(files["words"], num_oov_buckets=3)
         .lookup(tf.constant(["lake", "x", "yy", "palmer"]))),
        ("index_from_tensor", lambda tf: [_lookup_module(tf).index_table_from_tensor(["a", "b"], default_value=-5)
                                          .lookup(tf.constant(["b", "x"])),
                                          _lookup_module(tf).index_table_from_tensor(
                                              tf.constant([10, 20], tf.int64), num_oov_buckets=4,
                                              dtype=tf.int64).lookup(tf.constant([20, 30, 10], tf.int64))]),
        ("index_to_string", lambda tf: [_lookup_module(tf).index_to_string_table_from_file(files["words"])
                                        .lookup(tf.constant([1, 5], tf.int64)),
                                        _lookup_module(tf).index_to_string_table_from_tensor(["a", "b"],
                                                                                             default_value="?")
                                        .lookup(tf.constant([1, 5], tf.int64))]),
        ("sizes", lambda tf: [tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            ["a", "b", "c"], [1, 2, 3]), -1).size(), _lookup_module(tf).index_table_from_file(
            files["words"], num_oov_buckets=3).size()]),
    ]


@pytest.mark.oracle
def test_oracle_tables(files):
    for name, build in _oracle_tables(files):
        _op_oracle.compare(build, runs=1)


@pytest.mark.oracle
def test_oracle_table_errors(files):
    errors = [
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a", "b", "a"], [1, 2, 3]), -1)
        .lookup(tf.constant(["a"])),
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            files["words"] + ".missing", tf.string, -2, tf.int64, -1), -1).lookup(tf.constant(["x"])),
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(files["dup"], tf.string, 0, tf.int64, 1),
                                             -1).lookup(tf.constant(["a"])),
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            files["words"], tf.string, -2, tf.int64, -1, vocab_size=5), -1).lookup(tf.constant(["x"])),
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(files["words"], tf.string, 3, tf.int64,
                                                                           -1), -1).lookup(tf.constant(["x"])),
        lambda tf: tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(files["words"], tf.string, -2, tf.int64,
                                                                           0), -1).lookup(tf.constant(["x"])),
    ]
    for build in errors:
        _op_oracle.compare_error(build)


ORACLE_STRINGS = [
    ("join_split", lambda tf: [tf.strings.join([tf.constant(S), "x"], separator="-"),
                               tf.strings.split(tf.constant(["a b  c", "d"])),
                               tf.strings.split(tf.constant(["a,b,,c", "d"]), sep=","),
                               tf.strings.split(tf.constant(["a,b,,c", "d"]), sep=",", maxsplit=1)]),
    ("substr_length", lambda tf: [tf.strings.substr(tf.constant(S[:3]), 1, 3),
                                  tf.strings.substr(tf.constant(S[:3]), 1, 3, unit="UTF8_CHAR"),
                                  tf.strings.substr(tf.constant(S[:3]), -3, 2),
                                  tf.strings.substr(tf.constant(["abc", "defg"]), [0, 1], [1, 2]),
                                  tf.strings.length(tf.constant(S)),
                                  tf.strings.length(tf.constant(S), unit="UTF8_CHAR")]),
    ("case_regex_strip", lambda tf: [tf.strings.lower(tf.constant(S)), tf.strings.upper(tf.constant(S)),
                                     tf.strings.regex_replace(tf.constant(S), "o", "0"),
                                     tf.strings.regex_replace(tf.constant(S), r"(\w+) (\w+)", r"\2 \1"),
                                     tf.strings.regex_replace(tf.constant(S), tf.constant("l+"), "L"),
                                     tf.strings.regex_full_match(tf.constant(S), r"[A-Z].*"),
                                     tf.strings.strip(tf.constant(S))]),
    ("numbers_hashes", lambda tf: [tf.strings.to_number(["1.5", " 2", "-3e2", "inf"]),
                                   tf.strings.to_number(["12", "-3"], tf.int64),
                                   tf.strings.to_hash_bucket_fast(WORDS, 1000),
                                   tf.strings.to_hash_bucket_strong(WORDS, 77, [7, 11]),
                                   tf.string_to_hash_bucket(WORDS, 13)]),
    ("format_join_as_string", lambda tf: [tf.strings.format("x={} y={}", [tf.constant([1, 2, 3]), tf.constant("s")]),
                                          tf.strings.format("{}", [tf.constant([[1.5, 2.0], [3.0, 4.0]])]),
                                          tf.strings.format("v: {}", [tf.constant(np.arange(10))], summarize=2),
                                          tf.strings.reduce_join([["a", "b"], ["c", "d"]]),
                                          tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator="-"),
                                          tf.reduce_join([["a", "b"], ["c", "d"]], 0, keep_dims=True),
                                          tf.as_string([1.5, 2.25]), tf.as_string([3, 4]),
                                          tf.as_string([1.23456], precision=2), tf.as_string([1234.5], scientific=True),
                                          tf.as_string([7], width=4, fill="0"), tf.as_string([True, False])]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, build", ORACLE_STRINGS, ids=[o[0] for o in ORACLE_STRINGS])
def test_oracle_strings(name, build):
    _op_oracle.compare(build, runs=1)


@pytest.mark.oracle
@pytest.mark.parametrize("build", [
    lambda tf: tf.strings.to_number(["abc"]),
    lambda tf: tf.strings.substr(tf.constant(S), 5, 3),
    lambda tf: tf.string_join([["a", "b"], ["c"]]),
], ids=["to_number", "substr", "join_shapes"])
def test_oracle_string_errors(build):
    _op_oracle.compare_error(build)
