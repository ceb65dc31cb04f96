import gzip
import struct
import zlib

import numpy as np
import pytest

from graphcompat.framework.errors import DataLossError, FailedPreconditionError, InvalidArgumentError, NotFoundError
from graphcompat.formats.crc import crc32c, mask, masked_crc, unmask
from graphcompat.formats.records import RecordWriter, encode_record, read_records, write_records


@pytest.mark.parametrize("data, expected", [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),              # the standard CRC-32C check value
    (bytes(32), 0x8A9136AA),                 # RFC 3720 B.4 test vectors
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_values(data, expected):
    assert crc32c(data) == expected
    assert crc32c(bytearray(data)) == expected
    assert crc32c(memoryview(data)) == expected
    assert crc32c(np.frombuffer(data, np.uint8)) == expected


def test_crc32c_extends_and_accepts_arrays():
    data = np.arange(1000, dtype=np.float64)
    raw = data.tobytes()
    assert crc32c(data) == crc32c(raw)
    assert crc32c(raw[500:], crc32c(raw[:500])) == crc32c(raw)
    assert crc32c(data[::3]) == crc32c(data[::3].tobytes())  # non-contiguous input is copied


def test_mask():
    assert mask(0) == 0xA282EAD8                  # masked crc of empty data, as in every TFRecord of b""
    # Rotate right by 15 then add the delta: 0xE3069283 -> 0x2507C60D, + 0xA282EAD8 -> 0xC78AB0E5.
    assert masked_crc(b"123456789") == 0xC78AB0E5
    for value in [0, 1, 0xFFFFFFFF, 0xE3069283, 0x12345678]:
        assert unmask(mask(value)) == value


def test_record_framing_bytes():
    framed = encode_record(b"abc")
    length, length_crc = struct.unpack_from("<QI", framed)
    assert (length, len(framed)) == (3, 8 + 4 + 3 + 4)
    assert length_crc == masked_crc(struct.pack("<Q", 3))
    assert framed[12:15] == b"abc"
    assert struct.unpack_from("<I", framed, 15)[0] == masked_crc(b"abc")


RECORDS = [b"", b"x", b"hello world" * 100, bytes(range(256)) * 300, b"\x00" * 70000]


@pytest.mark.parametrize("compression", ["", "ZLIB", "GZIP", None, 1, 2, "gzip"])
def test_record_round_trip(tmp_path, compression):
    path = str(tmp_path / "r.tfrecord")
    write_records(path, RECORDS, compression)
    assert list(read_records(path, compression)) == RECORDS


def test_compressed_files_are_standard_streams(tmp_path):
    write_records(str(tmp_path / "z"), RECORDS, "ZLIB")
    write_records(str(tmp_path / "g"), RECORDS, "GZIP")
    plain = b"".join(encode_record(r) for r in RECORDS)
    assert zlib.decompress((tmp_path / "z").read_bytes()) == plain
    assert gzip.decompress((tmp_path / "g").read_bytes()) == plain


def test_writer_accepts_buffers_and_flush_makes_data_readable(tmp_path):
    path = str(tmp_path / "r")
    for compression in ["", "ZLIB", "GZIP"]:
        writer = RecordWriter(path, compression)
        writer.write(np.arange(4, dtype=np.int32))
        writer.write(memoryview(b"mv"))
        writer.flush()
        if compression == "":
            assert list(read_records(path)) == [np.arange(4, dtype=np.int32).tobytes(), b"mv"]
        writer.close()
        writer.close()  # idempotent
        assert list(read_records(path, compression)) == [np.arange(4, dtype=np.int32).tobytes(), b"mv"]


def test_concatenated_zlib_streams(tmp_path):
    path = tmp_path / "z"
    path.write_bytes(zlib.compress(encode_record(b"one")) + zlib.compress(encode_record(b"two")))
    assert list(read_records(str(path), "ZLIB")) == [b"one", b"two"]


def test_bad_compression_type():
    with pytest.raises(InvalidArgumentError):
        RecordWriter("/nonexistent/never", "LZ4")


def test_missing_file_and_directory(tmp_path):
    # TF's I/O statuses: "<path>; <strerror>" with the class for the errno.
    with pytest.raises(NotFoundError, match=f"^{tmp_path}/missing; No such file or directory$"):
        list(read_records(str(tmp_path / "missing")))
    with pytest.raises(NotFoundError, match="no_dir/file; No such file or directory$"):
        RecordWriter(str(tmp_path / "no_dir" / "file"))
    with pytest.raises(FailedPreconditionError, match=f"^{tmp_path}; Is a directory$"):
        list(read_records(str(tmp_path)))
    (tmp_path / "plain").write_bytes(b"")
    with pytest.raises(FailedPreconditionError, match="plain/x; Not a directory$"):
        RecordWriter(str(tmp_path / "plain" / "x"))


def _write(tmp_path, records):
    path = tmp_path / "r"
    write_records(str(path), records)
    return path


@pytest.mark.parametrize("position, where", [
    (3, 0),        # inside the length field: TF names the record's offset
    (9, 0),        # inside the length crc
    (12 + 2, 12),  # inside the payload: TF names the payload's offset
    (12 + 5 + 1, 12),  # inside the payload crc
])
def test_corrupted_record(tmp_path, position, where):
    path = _write(tmp_path, [b"first", b"second"])
    data = bytearray(path.read_bytes())
    offset = len(encode_record(b"first"))
    data[offset + position] ^= 0x01
    path.write_bytes(bytes(data))
    records = read_records(str(path))
    assert next(records) == b"first"
    with pytest.raises(DataLossError, match=f"^corrupted record at {offset + where}$"):
        next(records)
    # Without checks the damaged payload comes through (only meaningful for payload damage).
    if position == 14:
        assert len(list(read_records(str(path), check_crc=False))) == 2


def test_corrupted_first_record_asks_whether_it_is_a_tfrecord_file(tmp_path):
    (tmp_path / "r").write_bytes(b"this is not a TFRecord file at all")
    with pytest.raises(DataLossError, match=r"^corrupted record at 0 \(Is this even a TFRecord file\?\)$"):
        list(read_records(str(tmp_path / "r")))


@pytest.mark.parametrize("cut", [1, 4, 11])
def test_partial_header_at_the_end_is_the_end(tmp_path, cut):
    # TF's reader treats a header cut short as the end of the data (a writer may be mid-record).
    path = _write(tmp_path, [b"first", b"second"])
    path.write_bytes(path.read_bytes()[:len(encode_record(b"first")) + cut])
    assert list(read_records(str(path))) == [b"first"]


@pytest.mark.parametrize("cut", [12, 15, 20])
def test_truncated_record(tmp_path, cut):
    path = _write(tmp_path, [b"first", b"second"])
    full = path.read_bytes()
    offset = len(encode_record(b"first"))
    path.write_bytes(full[:offset + cut])
    with pytest.raises(DataLossError, match=f"^truncated record at {offset}' failed with Read less bytes than "
                                            f"requested$"):
        list(read_records(str(path)))


@pytest.mark.parametrize("compression", ["ZLIB", "GZIP"])
def test_truncated_compressed_stream(tmp_path, compression):
    path = tmp_path / "r"
    write_records(str(path), [b"x" * 1000, b"y" * 1000], compression)
    path.write_bytes(path.read_bytes()[:-12])  # inside the last payload
    with pytest.raises(DataLossError, match=f"^truncated record at {1000 + 16}' failed with EOF reached$"):
        list(read_records(str(path), compression))


def test_garbage_compressed_stream(tmp_path):
    path = tmp_path / "r"
    path.write_bytes(b"this is not a zlib stream at all")
    for compression in ["ZLIB", "GZIP"]:
        with pytest.raises(DataLossError, match="^inflate\\(\\) failed with error -3: incorrect header check$"):
            list(read_records(str(path), compression))
