"""Lowerings of graphcompat/ops/audio_ops.py, and of DecodeJSONExample (graphcompat/ops/parsing_ops.py).

DecodeWav and EncodeWav are host rules (strings), following TF's wav_io: the same chunk walk, the same
checks in the same order and their messages, int16 <-> float scaling by 2^15 with roundf and clamping.
AudioSpectrogram and Mfcc lower to jax.numpy so they compile; TF's kernels compute in double (window,
FFT, filterbank, log, DCT) and store float32, and so do these rules, which keeps them within float32
rounding of TF. DecodeJSONExample (host) writes the binary Example the way protobuf's C++ JSON converter
does: fields and map entries in the JSON's order, repeated scalars unpacked.
"""
from __future__ import annotations

import re
import struct

import jax.numpy as jnp
import numpy as np

from graphcompat.framework import errors
from graphcompat.framework.kernel_util import next_power_of_two, spectrogram_length
from lowering.interpreter import require
from lowering.registry import lowers
from lowering.rules.checks import invalid, shape_str

_INT32_MAX = 2**31 - 1
_UINT32_MAX = 2**32 - 1
# Chunks TF skips between "WAVE" and "fmt " (JUNK padding, broadcast-WAV tags).
_SKIPPABLE_CHUNKS = {b"JUNK", b"bext", b"iXML", b"qlty", b"mext", b"levl", b"link", b"axml"}


class _WavError(Exception):
    """A malformed WAV string; the message is TF's."""


def _fail(ctx, op, message: str):
    """TF's InvalidArgumentError for this run (ctx.check orders it after earlier pending checks)."""
    ctx.check(False, errors.InvalidArgumentError, message, op)
    raise errors.InvalidArgumentError(None, op, message)
    raise errors.InvalidArgumentError(None, op, message)


class _WavReader:
    """TF's offset-checked reads over the bytes of a WAV string (its IncrementOffset/ReadValue/ReadString)."""

    def __init__(self, data: bytes):
        self.data = data
        self.offset = 0

    def advance(self, increment: int) -> int:
        old = self.offset
        if old > len(self.data):
            raise _WavError(f"Initial offset is outside data range: {old}")
        new = old + increment
        if new > len(self.data):
            raise _WavError("Data too short when trying to read string")
        self.offset = new
        return old

    def string(self, size: int) -> bytes:
        start = self.advance(size)
        return self.data[start:self.offset]

    def expect(self, text: bytes) -> None:
        start = self.offset
        self.advance(len(text))
        found = self.data[start:self.offset]
        if found != text:
            raise _WavError(f"Header mismatch: Expected {text.decode()} but found {_text(found)}")

    def value(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.string(struct.calcsize(fmt)))[0]


def _text(raw: bytes) -> str:
    # TF's status message holds the raw bytes; its Python error decodes them as UTF-8, replacing bad bytes.
    return raw.decode("utf-8", "replace")


def decode_wav_bytes(data: bytes):
    """16-bit PCM WAV bytes -> (float32 [frames, channels] samples / 2^15, sample rate) as TF's
    DecodeLin16WaveAsFloatVector reads them; raises _WavError with TF's message."""
    r = _WavReader(data)
    r.expect(b"RIFF")
    r.value("I")                                   # the RIFF size: TF does not check it
    r.expect(b"WAVE")
    chunk = r.string(4)
    while chunk != b"fmt ":
        if chunk not in _SKIPPABLE_CHUNKS:
            raise _WavError(f"Unexpected field {_text(chunk)}")
        r.advance(r.value("I"))
        chunk = r.string(4)
    format_size = r.value("I")
    if format_size not in (16, 18):
        raise _WavError(f"Bad format chunk size for WAV: Expected 16 or 18, but got{format_size}")
    audio_format = r.value("H")
    if audio_format != 1:
        raise _WavError(f"Bad audio format for WAV: Expected 1 (PCM), but got{audio_format}")
    channels = r.value("H")
    if channels < 1:
        raise _WavError(f"Bad number of channels for WAV: Expected at least 1, but got {channels}")
    sample_rate = r.value("I")
    bytes_per_second = r.value("I")
    bytes_per_frame = r.value("H")                 # TF's "bytes per sample": all channels of one frame
    bits = r.value("H")
    if bits != 16:
        raise _WavError(f"Can only read 16-bit WAV files, but received {bits}")
    expected_frame = (bits * channels + 7) // 8
    if bytes_per_frame != expected_frame:
        raise _WavError(f"Bad bytes per sample in WAV header: Expected {expected_frame} but got {bytes_per_frame}")
    expected_second = (bytes_per_frame * sample_rate) & _UINT32_MAX   # uint32 arithmetic, as TF's
    if bytes_per_second != expected_second:
        raise _WavError(f"Bad bytes per second in WAV header: Expected {expected_second} but got "
                        f"{bytes_per_second} (sample_rate={sample_rate}, bytes_per_sample={bytes_per_frame})")
    if format_size == 18:
        r.offset += 2                              # unchecked, as TF's: a short string just ends the walk
    samples = None
    while r.offset < len(data):
        chunk_id = r.string(4)
        size = r.value("I")
        if size > _INT32_MAX:
            raise _WavError(f"WAV data chunk '{_text(chunk_id)}' is too large: {size} bytes, but the limit is "
                            f"{_INT32_MAX}")
        if chunk_id == b"data":
            if samples is not None:
                raise _WavError("More than one data chunk found in WAV")
            frames = size // bytes_per_frame
            start = r.advance(2 * frames * channels)
            samples = np.frombuffer(data, "<i2", frames * channels, start).reshape(frames, channels)
            # The walk goes on right after the samples read, not after `size` bytes (TF's reader).
        else:
            r.offset += size
            if r.offset > _INT32_MAX:
                break  # TF's int offset wraps negative, which its unsigned loop test reads as past the end
    if samples is None:
        raise _WavError("No data chunk found in WAV")
    return samples.astype(np.float32) * np.float32(1.0 / 32768), sample_rate


@lowers("DecodeWav", context=True, host=True)
def decode_wav(ctx, op, contents):
    contents = np.asarray(contents, dtype=object)
    if contents.ndim != 0:
        _fail(ctx, op, f"contents must be scalar, got shape {shape_str(contents.shape)}")
    data = contents.item()
    data = data if isinstance(data, bytes) else str(data).encode()
    try:
        samples, rate = decode_wav_bytes(data)
    except _WavError as e:
        _fail(ctx, op, str(e))
    want_channels, want_frames = int(op.attrs["desired_channels"]), int(op.attrs["desired_samples"])
    # The attrs are checked after decoding, as TF's kernel does (its shape function rejects them first).
    if want_channels < -1:
        _fail(ctx, op, f"desired_channels must be >= -1, got {want_channels}")
    if want_frames < -1:
        _fail(ctx, op, f"desired_samples must be >= -1, got {want_frames}")
    frames, channels = samples.shape
    out_frames = frames if want_frames == -1 else want_frames
    out_channels = channels if want_channels == -1 else want_channels
    # Extra channels repeat the last one; extra frames are zeros.
    picked = samples[:out_frames, np.minimum(np.arange(out_channels), channels - 1)]
    audio = np.zeros((out_frames, out_channels), np.float32)
    audio[:picked.shape[0]] = picked
    return audio, np.asarray(rate, np.uint32).astype(np.int32)


def _float_to_int16(audio: np.ndarray) -> np.ndarray:
    """TF's FloatToInt16Sample: roundf(x * 2^15) (half away from zero), clamped to int16; NaN -> 0 (the
    x86 conversion of NaN TF's kernel ends with)."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge samples become inf and clamp, as in TF
        scaled = audio.astype(np.float32) * np.float32(32768)
    wide = scaled.astype(np.float64)               # exact: rounding in float32 could round x.4999... up
    rounded = np.copysign(np.floor(np.abs(wide) + 0.5), wide)
    clamped = np.clip(rounded, -32768, 32767)
    return np.where(np.isnan(clamped), 0, clamped).astype("<i2")


def encode_wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """float [frames, channels] -> 16-bit PCM WAV bytes (TF's EncodeAudioAsS16LEWav); _WavError on TF's checks."""
    frames, channels = audio.shape
    rate = sample_rate & (2**64 - 1)               # TF passes the int32 rate as a size_t
    if rate == 0 or rate > _UINT32_MAX:
        raise _WavError(f"sample_rate must be in (0, 2^32), got: {rate}")
    if channels == 0 or channels > 2**16 - 1:
        raise _WavError(f"num_channels must be in (0, 2^16), got: {channels}")
    data_size = frames * channels * 2
    file_size = 44 + data_size
    if file_size > _UINT32_MAX:
        raise _WavError("Provided channels and frames cannot be encoded as a WAV.")
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", file_size - 8, b"WAVE", b"fmt ", 16, 1, channels, rate,
                         (rate * 2 * channels) & _UINT32_MAX, 2 * channels, 16, b"data", data_size)
    return header + _float_to_int16(audio).tobytes()


@lowers("EncodeWav", context=True, host=True)
def encode_wav(ctx, op, audio, sample_rate):
    audio, sample_rate = np.asarray(audio, np.float32), np.asarray(sample_rate)
    if audio.ndim != 2:
        _fail(ctx, op, f"audio must be 2-dimensional{shape_str(audio.shape)}")
    if sample_rate.ndim != 0:
        _fail(ctx, op, "Input sample_rate should be a scalar tensor, got "
                       f"{shape_str(sample_rate.shape)} instead.")
    if audio.size >= _INT32_MAX:
        _fail(ctx, op, "Cannot encode audio with >= max int32 elements")
    try:
        return np.asarray(encode_wav_bytes(audio, int(sample_rate)), dtype=object)
    except _WavError as e:
        _fail(ctx, op, str(e))


# ------------------------------------------------------------------------------------------------
# AudioSpectrogram
# ------------------------------------------------------------------------------------------------
def _periodic_hann(length: int) -> np.ndarray:
    """TF's GetPeriodicHann, in double: 0.5 - 0.5 cos(2 pi i / length)."""
    return 0.5 - 0.5 * np.cos((2 * np.pi * np.arange(length, dtype=np.float64)) / length)


@lowers("AudioSpectrogram")
def audio_spectrogram(x, *, window_size, stride, magnitude_squared=False, **_):
    window_size, stride = int(window_size), int(stride)
    if window_size <= 1:
        raise invalid(f"window_size must be > 1, got {window_size}")
    if stride <= 0:
        raise invalid(f"stride must be > 0, got {stride}")
    if np.ndim(x) != 2:
        raise invalid(f"input must be 2-dimensional{shape_str(np.shape(x))}")
    samples, channels = x.shape
    frames = spectrogram_length(samples, window_size, stride)
    fft_length = next_power_of_two(window_size)
    bins = 1 + fft_length // 2
    if frames == 0 or channels == 0:
        return jnp.zeros((channels, frames, bins), jnp.float32)
    # Window k covers samples [k * stride, k * stride + window_size): one gather builds every frame.
    index = (np.arange(frames) * stride)[:, None] + np.arange(window_size)[None, :]
    windows = jnp.transpose(jnp.asarray(x)[index], (2, 0, 1)).astype(jnp.float64) * _periodic_hann(window_size)
    spectrum = jnp.fft.rfft(windows, n=fft_length, axis=-1)
    power = (jnp.square(spectrum.real) + jnp.square(spectrum.imag)).astype(jnp.float32)
    # TF stores the double power as float, then takes sqrtf of that float.
    return power if magnitude_squared else jnp.sqrt(power)


# ------------------------------------------------------------------------------------------------
# Mfcc
# ------------------------------------------------------------------------------------------------
def _freq_to_mel(freq):
    return 1127.0 * (jnp.log1p(freq / 700.0) if isinstance(freq, jnp.ndarray) else np.log1p(freq / 700.0))


def _dct_matrix(inputs: int, coefficients: int) -> np.ndarray:
    """TF's MfccDct cosines [coefficients, inputs]: sqrt(2 / inputs) cos(i (pi / inputs) (j + 0.5))."""
    i = np.arange(coefficients, dtype=np.float64)[:, None]
    j = np.arange(inputs, dtype=np.float64)[None, :]
    return np.sqrt(2.0 / inputs) * np.cos(i * (np.pi / inputs) * (j + 0.5))


@lowers("Mfcc")
def mfcc(spectrogram, sample_rate, *, upper_frequency_limit=4000.0, lower_frequency_limit=20.0,
         filterbank_channel_count=40, dct_coefficient_count=13, **_):
    if np.ndim(spectrogram) != 3:
        raise invalid(f"spectrogram must be 3-dimensional{shape_str(np.shape(spectrogram))}")
    if np.ndim(sample_rate) != 0:
        raise invalid(f"Input sample_rate should be a scalar tensor, got {shape_str(np.shape(sample_rate))} "
                      "instead.")
    audio_channels, frames, length = spectrogram.shape
    # The attrs are float32 in TF's NodeDef, widened to double by the kernel.
    lower, upper = float(np.float32(lower_frequency_limit)), float(np.float32(upper_frequency_limit))
    channels, coefficients = int(filterbank_channel_count), int(dct_coefficient_count)
    rate = jnp.asarray(sample_rate).astype(jnp.float64)
    # Mfcc::Initialize's checks (the filterbank's, then the DCT's); the sample rate is a run-time value.
    static_ok = channels >= 1 and length >= 2 and lower >= 0 and upper > lower and 1 <= coefficients <= channels
    require(jnp.logical_and(rate > 0, static_ok), errors.InvalidArgumentError,
            lambda: f"Mfcc initialization failed for channel count {length}, sample rate "
                    f"{int(np.asarray(sample_rate))} and filterbank_channel_count {channels}")
    if not static_ok:
        return jnp.zeros((audio_channels, frames, max(coefficients, 0)), jnp.float32)

    # TF's MfccMelFilterbank: channel centres evenly spaced in mel; bins outside [start, end] are unused
    # (DC is always excluded, as HTK). The band of a bin is the count of centres below its mel frequency,
    # minus one: what TF's sequential scan over the sorted centres finds.
    mel_low, mel_high = _freq_to_mel(lower), _freq_to_mel(upper)
    centres = mel_low + ((mel_high - mel_low) / (channels + 1)) * np.arange(1, channels + 2, dtype=np.float64)
    hz_per_bin = 0.5 * rate / (length - 1)
    start = jnp.floor(1.5 + lower / hz_per_bin)
    end = jnp.floor(upper / hz_per_bin)
    bin_index = jnp.arange(length, dtype=jnp.float64)
    mel = _freq_to_mel(bin_index * hz_per_bin)
    used = (bin_index >= start) & (bin_index <= end)
    band = jnp.sum(mel[:, None] > jnp.asarray(centres[:channels])[None, :], axis=1) - 1      # in [-1, channels)
    upper_centre = jnp.asarray(centres)[band + 1]
    lower_centre = jnp.where(band >= 0, jnp.asarray(centres)[jnp.maximum(band, 0)], mel_low)
    weight = jnp.where(used, (upper_centre - mel) / (upper_centre - lower_centre), 0.0)
    # Each used bin gives `weight` of its magnitude to its band (the triangle's falling side) and the rest
    # to the next band (the next triangle's rising side).
    targets = jnp.arange(channels)[None, :]
    falling = (used[:, None] & (band[:, None] == targets)).astype(jnp.float64)
    rising = (used[:, None] & (band[:, None] + 1 == targets)).astype(jnp.float64)
    magnitude = jnp.sqrt(jnp.asarray(spectrogram).astype(jnp.float64))
    weighted = magnitude * weight
    energies = weighted @ falling + (magnitude - weighted) @ rising
    log_energies = jnp.log(jnp.maximum(energies, 1e-12))
    out = log_energies @ jnp.asarray(_dct_matrix(channels, coefficients).T)
    # TF's filterbank gives up (and the DCT of nothing is zeros) when the spectrum has no bin `end`.
    return jnp.where(end >= length, 0.0, out).astype(jnp.float32)


# ------------------------------------------------------------------------------------------------
# DecodeJSONExample (tf.io.decode_json_example)
# ------------------------------------------------------------------------------------------------
class _Pairs(list):
    """A JSON object as its (key, value) pairs, in the text's order."""


def _varint(value: int) -> bytes:
    value &= 2**64 - 1                              # negative int64s: ten-byte two's complement
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_BASE64 = re.compile(r"[A-Za-z0-9+/_=-]*")


def _check_json_scalars(field, items) -> None:
    """What protobuf's C++ JSON parser rejects and Python's json_format lets through: bytes that are not
    base64 (Python's decoder skips stray characters)."""
    from google.protobuf.descriptor import FieldDescriptor
    for item in items:
        if not isinstance(item, str):
            continue
        if field.type == FieldDescriptor.TYPE_BYTES and not _BASE64.fullmatch(item):
            raise ValueError(f"invalid base64 in {field.full_name}: {item!r}")


def _encode_json_message(message, pairs: _Pairs) -> bytes:
    """The binary encoding TF's JSON converter (protobuf's JsonToBinaryStream) writes for one JSON object:
    fields in the order the JSON names them, map entries in the JSON's order, repeated scalars unpacked.
    `message` is the same object parsed by protobuf's json_format, which gives each value its protobuf
    meaning (int64 strings, "NaN", base64) and has already rejected what TF rejects."""
    from google.protobuf.descriptor import FieldDescriptor
    by_name = {}
    for field in message.DESCRIPTOR.fields:
        by_name[field.name] = by_name[field.json_name] = field
    out = []
    for key, value in pairs:
        field = by_name[key]
        if value is None:                           # JSON null leaves a field unset
            continue
        held = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for map_key, map_value in value:
                entry = _length_delimited(1, map_key.encode())
                if map_value is not None:
                    entry += _length_delimited(2, _encode_json_message(held[map_key], map_value))
                out.append(_length_delimited(field.number, entry))
        elif field.is_repeated:
            _check_json_scalars(field, value)
            for item in held:
                if field.type == FieldDescriptor.TYPE_BYTES:
                    out.append(_length_delimited(field.number, item))
                elif field.type == FieldDescriptor.TYPE_FLOAT:
                    out.append(_varint(field.number << 3 | 5) + struct.pack("<f", item))
                else:                               # int64
                    out.append(_varint(field.number << 3) + _varint(item))
        else:
            out.append(_length_delimited(field.number, _encode_json_message(held, value)))
    return b"".join(out)


# The field names of tf.train.Example by depth (both spellings protobuf's JSON parser takes); depth 3 is
# the feature map's keys, any name.
_EXAMPLE_FIELDS = ({"features"}, {"feature"}, None,
                   {"bytesList", "bytes_list", "floatList", "float_list", "int64List", "int64_list"}, {"value"})


class _Stop(Exception):
    """Where the walk of _protobuf_json_reason ends: `reason` is protobuf's text, or None."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _valid_json_scalar(kind: str, token: str, quoted: bool) -> bool:
    """Whether protobuf takes `token` as an element of the `kind` list (else it reports it where it is)."""
    kind = kind.replace("_list", "List")
    if kind == "bytesList":
        return quoted and re.fullmatch(r"[A-Za-z0-9+/_-]*={0,2}", token) is not None and len(token) % 4 != 1
    if kind == "int64List":
        return re.fullmatch(r"-?[0-9]{1,18}", token) is not None
    if kind == "floatList":
        if quoted and token in ("NaN", "Infinity", "-Infinity"):
            return True
        return (not quoted and re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", token) is not None
                and abs(float(token)) <= 3.4028234663852886e38)
    return False


def _protobuf_json_reason(text: str):
    """protobuf C++'s JSON parser's reason (TF's DecodeJSONExample) for the failures it words without a
    position, whose text is fixed: input that ends inside the object ("unexpected EOF") and characters
    after it. None for every other failure: protobuf reports those with a position in a text whose spacing
    it randomizes, and the caller keeps Python's reason. The walk follows protobuf's lexer (quotes " and ',
    bare words, trailing commas) and stops without a verdict at a field name Example does not have, which
    protobuf reports before reaching the end."""
    n, pos = len(text), [0]

    def skip():
        while pos[0] < n and text[pos[0]] in " \t\r\n":
            pos[0] += 1
        if pos[0] >= n:
            raise _Stop("unexpected EOF")
        return text[pos[0]]

    def word():
        start = pos[0]
        while pos[0] < n and (text[pos[0]].isalnum() or text[pos[0]] in "_+-."):
            pos[0] += 1
        if pos[0] >= n and not re.fullmatch(r"null|true|false|-?[0-9][0-9.eE+-]*", text[start:]):
            raise _Stop("unexpected EOF")  # a literal or bare key the end cuts off (a number is whole)
        if pos[0] == start:
            raise _Stop(None)
        return text[start:pos[0]]

    def string(quote):
        out, pos[0] = [], pos[0] + 1
        while pos[0] < n and text[pos[0]] != quote:
            out.append(text[pos[0]])
            pos[0] += 2 if text[pos[0]] == "\\" else 1
        if pos[0] >= n:
            raise _Stop("unexpected EOF")
        pos[0] += 1
        return "".join(out)

    def value(depth, kind=""):
        # Example's shape: objects down to depth 4, the value list at 5, its scalars at 6, null for any
        # field; protobuf reports a value of the wrong kind where it meets it
        c = skip()
        if c in "{[":
            if c != ("{" if depth < 5 else "[" if depth == 5 else ""):
                raise _Stop(None)
            pos[0] += 1
            while True:
                if skip() in "}]":
                    if text[pos[0]] != chr(ord(c) + 2):  # "{" + 2 is "}", "[" + 2 is "]"
                        raise _Stop(None)
                    pos[0] += 1
                    return
                if c == "{":
                    quote = text[pos[0]]
                    key = string(quote) if quote in "\"'" else word()
                    fields = _EXAMPLE_FIELDS[depth] if depth < len(_EXAMPLE_FIELDS) else set()
                    if fields is not None and key not in fields:
                        raise _Stop(None)
                    if skip() != ":":
                        raise _Stop(None)
                    pos[0] += 1
                value(depth + 1, key if depth == 3 else kind)
                if pos[0] >= n:  # after a whole value protobuf words the end as a missing ','
                    raise _Stop(None)
                if skip() == ",":
                    pos[0] += 1
                elif text[pos[0]] != chr(ord(c) + 2):
                    raise _Stop(None)
        elif c in "\"'":
            if depth < 6 or not _valid_json_scalar(kind, string(c), quoted=True):
                raise _Stop(None)
        else:
            token = word()
            if token != "null" and (depth < 6 or not _valid_json_scalar(kind, token, quoted=False)):
                raise _Stop(None)

    try:
        if skip() != "{":
            return None
        value(0)
    except _Stop as stop:
        return stop.reason
    while pos[0] < n and text[pos[0]] in " \t\r\n":
        pos[0] += 1
    return "extraneous characters after end of JSON object" if pos[0] < n else None


def json_example_to_binary(text: bytes) -> bytes:
    """One JSON-encoded tf.train.Example -> its serialized bytes; ValueError with the parser's reason."""
    import json

    from google.protobuf import json_format

    from graphcompat.formats.example_proto import Example
    try:
        decoded = text.decode("utf-8")
        message = json_format.Parse(decoded, Example())
        pairs = json.loads(decoded, object_pairs_hook=_Pairs)
    except (UnicodeDecodeError, json_format.ParseError, ValueError) as e:
        reason = _protobuf_json_reason(decoded) if isinstance(e, (json_format.ParseError, ValueError)) else None
        raise ValueError(reason or (str(e).splitlines()[0] if str(e) else type(e).__name__)) from None
    return _encode_json_message(message, pairs)     # ValueError: _check_json_scalars


@lowers("DecodeJSONExample", context=True, host=True)
def decode_json_example(ctx, op, json_examples):
    texts = np.asarray(json_examples, dtype=object)
    out = np.empty(texts.shape, dtype=object)
    for index, text in np.ndenumerate(texts):
        try:
            out[index] = json_example_to_binary(text if isinstance(text, bytes) else str(text).encode())
        except ValueError as e:
            # TF appends protobuf's C++ parser message (whose spacing it randomizes); this one is Python's.
            _fail(ctx, op, f"Error while parsing JSON: {e}")
    return out
