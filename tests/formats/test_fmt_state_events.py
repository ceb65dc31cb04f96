import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

from graphcompat.formats import (EventFileWriter, decode_png, encode_png,
                                 get_checkpoint_state, latest_checkpoint, make_histogram,
                                 read_records, update_checkpoint_state, write_bundle)
from graphcompat.formats.histogram import BUCKET_LIMITS, DBL_MAX
from graphcompat.framework.errors import InvalidArgumentError

# ---- checkpoint state --------------------------------------------------------------------------


def test_checkpoint_state_text_and_round_trip(tmp_path):
    d = str(tmp_path)
    update_checkpoint_state(d, f"{d}/model-2", [f"{d}/model-1"])
    text = (tmp_path / "checkpoint").read_text()
    assert text == (f'model_checkpoint_path: "{d}/model-2"\n'
                    f'all_model_checkpoint_paths: "{d}/model-1"\n'
                    f'all_model_checkpoint_paths: "{d}/model-2"\n')
    state = get_checkpoint_state(d)
    assert state.model_checkpoint_path == f"{d}/model-2"
    assert list(state.all_model_checkpoint_paths) == [f"{d}/model-1", f"{d}/model-2"]
    assert os.listdir(d) == ["checkpoint"]  # no temporary file left behind


def test_checkpoint_state_relative_paths_are_joined(tmp_path):
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "m-3"\nall_model_checkpoint_paths: "m-3"\n'
                                         'all_model_checkpoint_paths: "/abs/m-1"\n')
    state = get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), "m-3")
    assert list(state.all_model_checkpoint_paths) == [os.path.join(str(tmp_path), "m-3"), "/abs/m-1"]


def test_checkpoint_state_save_relative_paths_and_timestamps(tmp_path):
    d = str(tmp_path)
    update_checkpoint_state(d, f"{d}/m-2", [f"{d}/m-1", f"{d}/m-2"], save_relative_paths=True,
                            all_model_checkpoint_timestamps=[1.5, 2.5], last_preserved_timestamp=0.5,
                            latest_filename="ckstate")
    text = (tmp_path / "ckstate").read_text()
    assert 'model_checkpoint_path: "m-2"' in text and "all_model_checkpoint_timestamps: 2.5" in text
    state = get_checkpoint_state(d, "ckstate")
    assert state.model_checkpoint_path == f"{d}/m-2" and state.last_preserved_timestamp == 0.5


def test_checkpoint_state_missing_bad_and_latest(tmp_path):
    d = str(tmp_path)
    assert get_checkpoint_state(d) is None and latest_checkpoint(d) is None
    (tmp_path / "checkpoint").write_text("this is { not text format")
    with pytest.warns(UserWarning, match="Checkpoint ignored"):
        assert get_checkpoint_state(d) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "x"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        get_checkpoint_state(d)
    update_checkpoint_state(d, os.path.join(d, "model-7"))
    with pytest.warns(UserWarning, match="Couldn't match files"):
        assert latest_checkpoint(d) is None
    write_bundle(os.path.join(d, "model-7"), {"v": np.zeros(1)})
    assert latest_checkpoint(d) == os.path.join(d, "model-7")


def test_checkpoint_state_conflicting_path(tmp_path):
    with pytest.raises(RuntimeError, match="conflicts"):
        update_checkpoint_state(str(tmp_path), str(tmp_path / "checkpoint"))


# ---- events ------------------------------------------------------------------------------------

def _events(path):
    return [event_pb2.Event.FromString(r) for r in read_records(path)]


def _scalar_event(step, value):
    return event_pb2.Event(wall_time=time.time(), step=step,
                           summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=value)]))


def test_event_file_name_and_first_record(tmp_path):
    before = int(time.time())
    writer = EventFileWriter(str(tmp_path / "logs"), filename_suffix=".sfx")
    name = os.path.basename(writer.path)
    match = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.sfx", name)
    assert match and match.group(2) == socket.gethostname()
    assert before <= int(match.group(1)) <= time.time()
    first = _events(writer.path)  # written and flushed at once
    assert len(first) == 1 and first[0].file_version == "brain.Event:2"
    assert abs(first[0].wall_time - time.time()) < 60 and first[0].step == 0
    writer.close()


def test_events_flush_close_reopen(tmp_path):
    writer = EventFileWriter(str(tmp_path), max_queue=100, flush_secs=1000)
    for step in range(5):
        writer.add_event(_scalar_event(step, step * 0.5))
    writer.add_event(_scalar_event(5, 9.0).SerializeToString())  # pre-serialized bytes work too
    assert len(_events(writer.path)) == 1  # still queued
    writer.flush()
    events = _events(writer.path)
    assert [e.step for e in events[1:]] == [0, 1, 2, 3, 4, 5]
    assert events[3].summary.value[0].simple_value == 1.0
    writer.add_event(_scalar_event(6, 0.0))
    writer.close()
    first_path = writer.path
    assert len(_events(first_path)) == 8
    writer.add_event(_scalar_event(7, 0.0))  # ignored after close, as in TF
    writer.reopen()
    assert writer.path != first_path
    writer.add_event(_scalar_event(8, 0.0))
    writer.close()
    assert [e.step for e in _events(writer.path)] == [0, 8]
    assert len(_events(first_path)) == 8


def test_events_background_flush(tmp_path):
    with EventFileWriter(str(tmp_path), flush_secs=0.05) as writer:
        writer.add_event(_scalar_event(1, 1.0))
        deadline = time.time() + 5
        while len(_events(writer.path)) < 2 and time.time() < deadline:
            time.sleep(0.02)
        assert len(_events(writer.path)) == 2


def test_events_file_deleted_is_recreated(tmp_path):
    writer = EventFileWriter(str(tmp_path))
    os.remove(writer.path)
    writer.add_event(_scalar_event(1, 1.0))
    writer.flush()
    events = _events(writer.path)
    assert events[0].file_version == "brain.Event:2" and events[1].step == 1
    writer.close()


def test_unclosed_writer_neither_hangs_nor_loses_events(tmp_path):
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {os.getcwd()!r})
        from graphcompat.formats import EventFileWriter
        from tensorboard.compat.proto import event_pb2
        w = EventFileWriter({str(tmp_path)!r}, flush_secs=3600)
        w.add_event(event_pb2.Event(step=42))
        print(w.path)
    """)
    # flush_secs=3600: exiting must not wait for the flush thread (a hang fails with TimeoutExpired)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert [e.step for e in _events(out.stdout.strip())] == [0, 42]


# ---- histogram ---------------------------------------------------------------------------------

def _reference_histogram(values):
    """histogram.cc, transcribed as plain loops (independent of the vectorized version)."""
    limits = list(BUCKET_LIMITS)
    counts = [0.0] * len(limits)
    lo, hi, total, squares = limits[-1], -DBL_MAX, 0.0, 0.0
    for v in np.asarray(values, np.float64).ravel().tolist():
        b = next(i for i, limit in enumerate(limits) if limit > v)  # upper_bound
        counts[b] += 1
        lo, hi, total, squares = min(lo, v), max(hi, v), total + v, squares + v * v
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out_limits.append(end)
        out_counts.append(count)
    return lo, hi, total, squares, out_limits, out_counts


def test_bucket_limits():
    assert BUCKET_LIMITS[0] == -DBL_MAX and BUCKET_LIMITS[-1] == DBL_MAX
    assert 0.0 in BUCKET_LIMITS and BUCKET_LIMITS[BUCKET_LIMITS.size // 2] == 0.0
    assert BUCKET_LIMITS[BUCKET_LIMITS.size // 2 + 1] == 1e-12
    assert np.all(np.diff(BUCKET_LIMITS) > 0) and np.array_equal(BUCKET_LIMITS, -BUCKET_LIMITS[::-1])
    assert BUCKET_LIMITS[-2] < 1e20 <= BUCKET_LIMITS[-2] * 1.1
    assert BUCKET_LIMITS.size == 2 * 775 + 1


RNG = np.random.default_rng(7)


@pytest.mark.parametrize("values", [
    [], [0.0], [1.0], [-1.0, 1.0], [1e-12, 1.1e-12, -1e-12], [3, 3, 3, 7],
    RNG.normal(size=1000), RNG.normal(size=(20, 30)).astype(np.float32) * 1e5,
    np.arange(-100, 100, dtype=np.int64), np.array([1e300, -1e300, 5e-324]),
], ids=lambda v: f"n{np.size(v)}")
def test_histogram_matches_reference(values):
    proto = make_histogram(values)
    lo, hi, total, squares, limits, counts = _reference_histogram(values)
    assert (proto.min, proto.max, proto.num, proto.sum, proto.sum_squares) == (lo, hi, np.size(values), total, squares)
    assert list(proto.bucket_limit) == limits and list(proto.bucket) == counts


def test_histogram_empty_and_single():
    empty = make_histogram([])
    assert (list(empty.bucket_limit), list(empty.bucket), empty.num) == ([DBL_MAX], [0.0], 0)
    one = make_histogram([0.5])
    assert list(one.bucket) == [0.0, 1.0, 0.0]  # run below, the value's bucket, run above
    assert one.bucket_limit[1] > 0.5 and one.bucket_limit[-1] == DBL_MAX


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf], [-np.inf, 0.0]])
def test_histogram_rejects_non_finite(bad):
    with pytest.raises(InvalidArgumentError, match="Nan in summary histogram for: weights"):
        make_histogram(bad, name="weights")


# ---- png ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_round_trip(channels, dtype):
    image = RNG.integers(0, np.iinfo(dtype).max, size=(7, 11, channels), dtype=dtype, endpoint=True)
    data = encode_png(image)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    decoded = decode_png(data)
    assert decoded.dtype == dtype and np.array_equal(decoded, image)


def test_png_accepts_2d_and_rejects_bad_input():
    assert decode_png(encode_png(np.eye(3, dtype=np.uint8) * 255)).shape == (3, 3, 1)
    with pytest.raises(InvalidArgumentError):
        encode_png(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(InvalidArgumentError):
        encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match="signature"):
        decode_png(b"GIF89a")
    data = bytearray(encode_png(np.zeros((2, 2, 3), np.uint8)))
    data[20] ^= 1  # inside IHDR
    with pytest.raises(InvalidArgumentError, match="CRC"):
        decode_png(bytes(data))


def _chunk(kind, body):
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _png(width, height, depth, color_type, rows, extra=b""):
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([depth, color_type, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra
            + _chunk(b"IDAT", zlib.compress(b"".join(rows))) + _chunk(b"IEND", b""))


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter_row(kind, row, prev, bpp):
    out = []
    for i, x in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = prev[i]
        upleft = prev[i - bpp] if i >= bpp else 0
        predictor = [0, left, up, (left + up) // 2, _paeth(left, up, upleft)][kind]
        out.append((x - predictor) % 256)
    return bytes([kind] + out)


def test_png_all_row_filters():
    image = RNG.integers(0, 256, size=(10, 9, 3), dtype=np.uint8)
    rows, prev = [], [0] * 27
    for y in range(10):
        row = image[y].reshape(-1).tolist()
        rows.append(_filter_row(y % 5, row, prev, 3))
        prev = row
    assert np.array_equal(decode_png(_png(9, 10, 8, 2, rows)), image)


def test_png_palette_low_bit_depth_and_transparency():
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
    # 2-bit palette indices 0,1,2,3,1 packed MSB first, one row.
    packed = bytes([0b00011011, 0b01000000])
    image = decode_png(_png(5, 1, 2, 3, [b"\x00" + packed], _chunk(b"PLTE", palette)))
    assert image.tolist() == [[[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9], [0, 255, 0]]]
    with_alpha = decode_png(_png(5, 1, 2, 3, [b"\x00" + packed], _chunk(b"PLTE", palette) + _chunk(b"tRNS", b"\x00\x80")))
    assert with_alpha[0, :, 3].tolist() == [0, 128, 255, 255, 128]
    gray1 = decode_png(_png(3, 1, 1, 0, [b"\x00" + bytes([0b10100000])]))
    assert gray1[0, :, 0].tolist() == [255, 0, 255]
    keyed = decode_png(_png(2, 1, 8, 0, [b"\x00\x05\x07"], _chunk(b"tRNS", b"\x00\x07")))
    assert keyed.tolist() == [[[5, 255], [7, 0]]]


def test_png_interlaced_is_rejected():
    with pytest.raises(NotImplementedError, match="interlaced"):
        data = _png(1, 1, 8, 0, [b"\x00\x00"])
        ihdr = bytearray(data[16:29])
        ihdr[-1] = 1
        decode_png(data[:8] + _chunk(b"IHDR", bytes(ihdr)) + data[33:])
