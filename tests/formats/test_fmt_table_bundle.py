import os
import struct

import ml_dtypes
import numpy as np
import pytest

from graphcompat.formats import BundleReader, PartitionedTensor, write_bundle
from graphcompat.framework.errors import DataLossError, NotFoundError, OutOfRangeError, UnimplementedError
from graphcompat.formats.bundle import DTYPES, data_filename, slice_key
from graphcompat.formats.crc import masked_crc
from graphcompat.formats.protos import BundleEntryProto, BundleHeaderProto
from graphcompat.formats.table import (MAGIC, TableReader, TableWriter, shortest_separator,
                                       short_successor, write_table)


# ---- table -------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, limit, expected", [
    (b"abc", b"abe", b"abd"),
    (b"abcdef", b"abzz", b"abd"),
    (b"abc", b"abd", b"abc"),        # incrementing would reach the limit
    (b"ab", b"abc", b"ab"),          # prefix: unchanged
    (b"a\xff", b"b", b"a\xff"),
    (b"\xff\x01", b"\xff\x05", b"\xff\x02"),
    (b"", b"a", b""),
])
def test_shortest_separator(start, limit, expected):
    assert shortest_separator(start, limit) == expected


@pytest.mark.parametrize("key, expected", [
    (b"abc", b"b"), (b"\xff\xffa", b"\xff\xffb"), (b"\xff\xff", b"\xff\xff"), (b"", b""), (b"x", b"y"),
])
def test_short_successor(key, expected):
    assert short_successor(key) == expected


def _block(contents: bytes) -> bytes:
    return contents + b"\x00" + struct.pack("<I", masked_crc(contents + b"\x00"))


def test_tiny_bundle_index_bytes(tmp_path):
    """The whole .index for one float scalar, derived by hand from the format."""
    prefix = str(tmp_path / "model")
    write_bundle(prefix, {"x": np.float32(1.0)})
    assert open(prefix + ".data-00000-of-00001", "rb").read() == b"\x00\x00\x80\x3f"

    header = bytes.fromhex("08 01 1a 02 08 01")  # num_shards=1, version{producer=1}
    entry = bytes.fromhex("08 01 12 00 28 04 35") + struct.pack("<I", masked_crc(b"\x00\x00\x80\x3f"))
    data_block = (b"\x00\x00\x06" + header                # key "" -> header
                  + b"\x00\x01\x0b" + b"x" + entry      # restart point: shared 0
                  + bytes(4) + struct.pack("<I", 1))    # restarts [0], count 1
    assert len(data_block) == 32
    meta_block = bytes.fromhex("00 00 00 00 01 00 00 00")
    index_block = b"\x00\x01\x02" + b"y" + b"\x00\x20" + bytes(4) + struct.pack("<I", 1)  # "y" = successor("x")
    # Footer: metaindex handle (37, 8), index handle (50, 14), zero padding to 40 bytes, magic.
    footer = bytes.fromhex("25 08 32 0e") + bytes(36) + bytes.fromhex("57 fb 80 8b 24 75 47 db")
    expected = _block(data_block) + _block(meta_block) + _block(index_block) + footer
    assert open(prefix + ".index", "rb").read() == expected
    assert struct.unpack("<Q", expected[-8:])[0] == MAGIC


def test_table_round_trip_many_blocks(tmp_path):
    path = str(tmp_path / "t")
    items = [(f"key{i:06d}".encode(), os.urandom(i * 7 % 3000)) for i in range(600)]
    items.append((b"zz-huge", b"v" * (3 * 262144)))  # an overly large entry gets its own block
    write_table(path, items)
    reader = TableReader(path)
    assert list(reader) == items
    assert len(reader._handles) > 3
    for key, value in items[::37] + items[-2:]:
        assert reader.get(key) == value
    assert reader.get(b"key") is None and reader.get(b"key000000x") is None and reader.get(b"zzz") is None


def test_index_uses_separators(tmp_path):
    path = tmp_path / "t"
    with open(path, "wb") as file:
        writer = TableWriter(file, block_size=1)  # every entry ends its block
        for key in [b"apple", b"apricot", b"banana"]:
            writer.add(key, b"v")
        writer.finish()
    reader = TableReader(str(path))
    assert reader._index_keys == [b"apq", b"apricot", b"c"]
    assert [k for k, _ in reader] == [b"apple", b"apricot", b"banana"]


def test_restart_points_every_16_entries(tmp_path):
    path = tmp_path / "t"
    write_table(str(path), [(b"k%02d" % i, b"") for i in range(40)])
    data = path.read_bytes()
    reader = TableReader(str(path))
    offset, size = reader._handles[0]
    contents = data[offset:offset + size]
    count = struct.unpack_from("<I", contents, len(contents) - 4)[0]
    restarts = struct.unpack_from(f"<{count}I", contents, len(contents) - 4 - 4 * count)
    assert count == 3 and restarts[0] == 0
    for r in restarts:
        assert contents[r] == 0  # shared == 0 at every restart point


def test_table_keys_must_increase(tmp_path):
    with open(tmp_path / "t", "wb") as file:
        writer = TableWriter(file)
        writer.add(b"b", b"")
        with pytest.raises(ValueError):
            writer.add(b"a", b"")


def test_table_corruption(tmp_path):
    path = tmp_path / "t"
    write_table(str(path), [(b"a", b"1"), (b"b", b"2")])
    good = path.read_bytes()
    path.write_bytes(good[:2] + bytes([good[2] ^ 0xFF]) + good[3:])
    with pytest.raises(DataLossError, match="^block checksum mismatch$"):
        list(TableReader(str(path)))
    path.write_bytes(good[:-1])
    with pytest.raises(DataLossError, match=r"^not an sstable \(bad magic number\)$"):
        TableReader(str(path))
    for cut in [10, 0]:
        path.write_bytes(good[:cut])
        with pytest.raises(DataLossError, match="^file is too short to be an sstable$"):
            TableReader(str(path))


def test_snappy_block_is_a_clear_error(tmp_path):
    path = tmp_path / "t"
    write_table(str(path), [(b"a", b"1")])
    data = bytearray(path.read_bytes())
    reader = TableReader(str(path))
    offset, size = reader._handles[0]
    data[offset + size] = 1  # block type: snappy
    data[offset + size + 1:offset + size + 5] = struct.pack("<I", masked_crc(bytes(data[offset:offset + size + 1])))
    path.write_bytes(bytes(data))
    with pytest.raises(UnimplementedError, match="snappy"):
        list(TableReader(str(path)))


# ---- bundle ------------------------------------------------------------------------------------

def _values(dtype, shape, rng):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return rng.normal(size=shape).astype(dtype)


NUMERIC = [d for e, d in sorted(DTYPES.items()) if d != np.dtype(object)]


@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
def test_bundle_round_trip_every_dtype(tmp_path, dtype):
    rng = np.random.default_rng(0)
    tensors = {"scalar": _values(dtype, (), rng), "matrix": _values(dtype, (3, 5), rng),
               "empty": _values(dtype, (0, 2), rng), "cube": _values(dtype, (2, 3, 4), rng)}
    prefix = str(tmp_path / "ckpt")
    write_bundle(prefix, tensors)
    reader = BundleReader(prefix)
    assert reader.keys() == sorted(tensors)
    for name, value in tensors.items():
        got = reader.get_tensor(name)
        assert got.dtype == dtype and got.shape == np.shape(value)
        assert reader.dtype_of(name) == dtype and reader.shape_of(name) == np.shape(value)
        assert got.tobytes() == np.asarray(value).tobytes()  # bit-exact, NaNs included
    assert reader.datatype_of("matrix") == {v: k for k, v in DTYPES.items()}[np.dtype(dtype)]


def test_bundle_data_layout(tmp_path):
    prefix = str(tmp_path / "m")
    a, b = np.arange(3, dtype=np.int64), np.array([[1.5, 2.5]], np.float32)
    write_bundle(prefix, {"b": b, "a": a})
    assert open(data_filename(prefix, 0, 1), "rb").read() == a.tobytes() + b.tobytes()  # sorted keys
    entries = dict(TableReader(prefix + ".index"))
    assert entries[b""] == bytes.fromhex("08 01 1a 02 08 01")
    eb = BundleEntryProto.FromString(entries[b"b"])
    assert (eb.dtype, eb.offset, eb.size, eb.shard_id) == (1, 24, 8, 0)
    assert [d.size for d in eb.shape.dim] == [1, 2]


def test_bundle_strings(tmp_path):
    values = np.array([b"", b"abc", b"\x00\xff", "h\u00e9llo".encode(), b"x" * 300], dtype=object).reshape(5, 1)
    prefix = str(tmp_path / "s")
    write_bundle(prefix, {"s": values, "scalar": np.array(b"one", dtype=object), "empty": np.array([], dtype=object),
                          "numpy_bytes": np.array([b"a", b"bc"]), "text": np.array(["t\u00e9xt"])})
    reader = BundleReader(prefix)
    got = reader.get_tensor("s")
    assert got.dtype == object and got.shape == (5, 1) and got.tolist() == values.tolist()
    assert reader.get_tensor("scalar").shape == () and reader.get_tensor("scalar").item() == b"one"
    assert reader.get_tensor("empty").shape == (0,)
    assert reader.get_tensor("numpy_bytes").tolist() == [b"a", b"bc"]
    assert reader.get_tensor("text").tolist() == ["t\u00e9xt".encode()]
    # On disk: varint lengths, masked crc of the lengths as uint32, then the bytes.
    entry = BundleEntryProto.FromString(TableReader(prefix + ".index").get(b"numpy_bytes"))
    data = open(data_filename(prefix, 0, 1), "rb").read()[entry.offset:entry.offset + entry.size]
    assert data == b"\x01\x02" + struct.pack("<I", masked_crc(struct.pack("<II", 1, 2))) + b"abc"


def test_bundle_big_endian_input(tmp_path):
    value = np.arange(6, dtype=">i4").reshape(2, 3)
    write_bundle(str(tmp_path / "m"), {"v": value})
    got = BundleReader(str(tmp_path / "m")).get_tensor("v")
    assert got.dtype == np.int32 and np.array_equal(got, value)


def test_bundle_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="cannot be stored"):
        write_bundle(str(tmp_path / "m"), {"t": np.array(["2020-01-01"], dtype="datetime64[D]")})


def test_bundle_partitioned(tmp_path):
    rng = np.random.default_rng(1)
    full = rng.normal(size=(10, 6)).astype(np.float32)
    parts = [((0, 0), full[:, :2]), ((0, 2), full[:, 2:5]), ((0, 5), full[:, 5:])]
    prefix = str(tmp_path / "p")
    write_bundle(prefix, {"emb": PartitionedTensor((10, 6), parts), "other": np.ones(2, ml_dtypes.bfloat16)})
    reader = BundleReader(prefix)
    assert reader.keys() == ["emb", "other"]
    assert reader.shape_of("emb") == (10, 6) and reader.dtype_of("emb") == np.float32
    assert np.array_equal(reader.get_tensor("emb"), full)
    assert reader.variable_to_shape_map() == {"emb": (10, 6), "other": (2,)}
    keys = [k for k, _ in TableReader(prefix + ".index")]
    assert keys[0] == b"" and sum(k.startswith(b"\x00") for k in keys) == 3
    assert slice_key("emb", [(0, 10), (2, 3)]) in keys


def test_bundle_single_full_slice_is_a_plain_tensor(tmp_path):
    value = np.arange(4.0)
    write_bundle(str(tmp_path / "p"), {"v": PartitionedTensor((4,), [((0,), value)])})
    keys = [k for k, _ in TableReader(str(tmp_path / "p.index"))]
    assert keys == [b"", b"v"]


def test_slice_key_encoding():
    # OrderedCode: 00 | "w" 00 01 | rank 01 02 | start 0 -> 80, length 4 -> 84 | start 3 -> 83, full -1 -> 7f
    assert slice_key("w", [(0, 4), (3, -1)]) == bytes.fromhex("00 77 00 01 01 02 80 84 83 7f")
    assert slice_key(b"a\x00\xff", [(64, -65)]) == bytes.fromhex("00 61 00 ff ff 00 00 01 01 01 c0 40 3f bf")
    assert slice_key("x", [(0x424242, -0x800)])[-6:] == bytes.fromhex("f0 42 42 42 38 00")


def _merge_two_shards(tmp_path):
    """A 2-shard bundle assembled from two single-shard ones, as MergeBundles would."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    write_bundle(a, {"x": np.arange(5.0), "z": np.array([b"s"], dtype=object)})
    write_bundle(b, {"y": np.arange(7, dtype=np.int8)})
    prefix = str(tmp_path / "merged")
    entries = {}
    for shard, part in enumerate([a, b]):
        for key, value in TableReader(part + ".index"):
            if key:
                entry = BundleEntryProto.FromString(value)
                entry.shard_id = shard
                entries[key] = entry
        os.replace(data_filename(part, 0, 1), data_filename(prefix, shard, 2))
    header = BundleHeaderProto(num_shards=2)
    header.version.producer = 1
    write_table(prefix + ".index", [(b"", header.SerializeToString())]
                + [(k, entries[k].SerializeToString()) for k in sorted(entries)])
    return prefix


def test_bundle_multiple_shards(tmp_path):
    reader = BundleReader(_merge_two_shards(tmp_path))
    assert reader.keys() == ["x", "y", "z"] and reader.num_shards == 2
    assert np.array_equal(reader.get_tensor("x"), np.arange(5.0))
    assert np.array_equal(reader.get_tensor("y"), np.arange(7, dtype=np.int8))
    assert reader.get_tensor("z").tolist() == [b"s"]


def test_bundle_creates_one_missing_directory_level_like_tf(tmp_path):
    write_bundle(str(tmp_path / "new" / "m"), {"v": np.zeros(3)})
    assert sorted(os.listdir(tmp_path / "new")) == ["m.data-00000-of-00001", "m.index"]
    with pytest.raises(NotFoundError, match=f"^{tmp_path}/a/b; No such file or directory$"):
        write_bundle(str(tmp_path / "a" / "b" / "m"), {"v": np.zeros(3)})
    assert not (tmp_path / "a").exists()


def test_bundle_resaves_alternate_shard_counts(tmp_path):
    # A re-save never overwrites the data file the current index points at: it alternates between one
    # and two data shards (the second empty), and deletes the previous files once the index is replaced.
    prefix = str(tmp_path / "m")
    for i, (shards, files) in enumerate([
            (1, ["m.data-00000-of-00001", "m.index"]),
            (2, ["m.data-00000-of-00002", "m.data-00001-of-00002", "m.index"]),
            (1, ["m.data-00000-of-00001", "m.index"])]):
        write_bundle(prefix, {"v": np.full(4, i, np.float32), "s": np.array([b"x" * i], object)})
        reader = BundleReader(prefix)
        assert reader.num_shards == shards and sorted(os.listdir(tmp_path)) == files
        assert np.array_equal(reader.get_tensor("v"), np.full(4, i)) and reader.get_tensor("s")[0] == b"x" * i
        reader.close()
    assert os.path.getsize(data_filename(prefix, 0, 1)) > 0


def test_bundle_write_removes_temporaries_of_an_interrupted_write(tmp_path):
    prefix = str(tmp_path / "m")
    write_bundle(prefix, {"v": np.zeros(2)})
    leftovers = ["m.index.tempstate123", "m.data-00000-of-00002.tempstate4", "m.meta.tmp" + "0" * 32]
    for name in leftovers + ["other.index.tempstate5", "m.index.tempstateX"]:
        (tmp_path / name).write_bytes(b"partial")
    write_bundle(prefix, {"v": np.ones(2)})
    assert sorted(os.listdir(tmp_path)) == ["m.data-00000-of-00002", "m.data-00001-of-00002", "m.index",
                                            "m.index.tempstateX", "other.index.tempstate5"]


# ---- bundle corruption -------------------------------------------------------------------------

@pytest.fixture
def bundle(tmp_path):
    prefix = str(tmp_path / "model")
    write_bundle(prefix, {"a/first": np.arange(100, dtype=np.float32),
                          "b/second": np.arange(50, dtype=np.int64),
                          "c/text": np.array([b"hello", b"world"], dtype=object)})
    return prefix


@pytest.mark.parametrize("key, position", [("a/first", 17), ("b/second", 400 + 3), ("c/text", 800 + 10)])
def test_flipped_data_byte_names_key_and_file(bundle, key, position):
    path = data_filename(bundle, 0, 1)
    data = bytearray(open(path, "rb").read())
    data[position] ^= 0x10
    open(path, "wb").write(bytes(data))
    reader = BundleReader(bundle)
    with pytest.raises(DataLossError, match=f"^TensorBundle at {bundle} shard 0 \\(\\d+ bytes\\): Checksum does "
                                            f"not match: stored \\d{{8,}} vs. calculated on the restored bytes \\d+$"):
        reader.get_tensor(key)
    for other in {"a/first", "b/second", "c/text"} - {key}:
        reader.get_tensor(other)  # the other tensors are intact


def test_truncated_index(bundle):
    path = bundle + ".index"
    data = open(path, "rb").read()
    for keep in [len(data) - 1, len(data) - 48, 20, 0]:
        open(path, "wb").write(data[:keep])
        with pytest.raises(DataLossError):
            BundleReader(bundle)


def test_truncated_data(bundle):
    path = data_filename(bundle, 0, 1)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:500])
    reader = BundleReader(bundle)
    reader.get_tensor("a/first")
    with pytest.raises(OutOfRangeError, match="^Read less bytes than requested$"):
        reader.get_tensor("c/text")


def test_missing_files_and_keys(bundle, tmp_path):
    with pytest.raises(NotFoundError, match="^Unsuccessful TensorSliceReader constructor: Failed to find any "
                                           f"matching files for {tmp_path}/nothing$"):
        BundleReader(str(tmp_path / "nothing"))
    reader = BundleReader(bundle)
    with pytest.raises(NotFoundError, match="^Key missing not found in checkpoint$"):
        reader.get_tensor("missing")
    assert not reader.has_tensor("missing") and reader.has_tensor("a/first")
    os.remove(data_filename(bundle, 0, 1))
    reader = BundleReader(bundle)  # data files are opened on first use
    with pytest.raises(NotFoundError, match=f"^{bundle}.data-00000-of-00001; No such file or directory$"):
        reader.get_tensor("a/first")


def test_wrong_size_entry(bundle):
    entries = list(TableReader(bundle + ".index"))
    rewritten = []
    for key, value in entries:
        if key == b"a/first":
            entry = BundleEntryProto.FromString(value)
            entry.size -= 4
            value = entry.SerializeToString()
        rewritten.append((key, value))
    write_table(bundle + ".index", rewritten)
    with pytest.raises(DataLossError, match="^Invalid size in bundle entry: key a/first; stored size 396; "
                                            "expected size 400$"):
        BundleReader(bundle).get_tensor("a/first")
