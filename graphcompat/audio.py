"""`tf.audio`: 16-bit PCM WAV decoding and encoding (the ops: graphcompat/ops/audio_ops.py)."""
from graphcompat.ops.audio_ops import decode_wav, encode_wav  # noqa: F401


def __getattr__(name):
    from graphcompat import compat
    return compat.missing(__name__, name)
