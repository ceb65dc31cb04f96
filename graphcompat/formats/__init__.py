"""TensorFlow's on-disk formats, read and written without TensorFlow.

- records:          TFRecord framing (``RecordWriter``, ``read_records``), optional GZIP/ZLIB
- table:            LevelDB-format tables (checkpoint ``.index`` files)
- bundle:           V2 checkpoints (``write_bundle``, ``BundleReader``), crash-safe re-saves
- checkpoint_v1:    V1 checkpoints, one table per shard (``TensorSliceWriter``, ``TensorSliceReader``,
                    ``open_checkpoint``: the V2 bundle or else the V1 files, as TF's RestoreV2 reads)
- checkpoint_state: the ``checkpoint`` text file
- events:           TensorBoard event files (``EventFileWriter``)
- histogram:        TF's summary histogram (``make_histogram``)
- png:              ``encode_png`` / ``decode_png``
- protos:           checkpoint protocol buffers missing from tensorboard
- durable:          atomic, fsynced file replacement and the crash-point hook of multi-file saves

Failures raise TensorFlow's own ``tf.errors`` classes with TF's messages; see ``errors``.
"""

from .errors import FormatError, io_error
from .crc import crc32c, mask, masked_crc, unmask
from .records import RecordWriter, read_records, write_records
from .bundle import BundleReader, PartitionedTensor, open_bundle, write_bundle
from .checkpoint_state import get_checkpoint_state, latest_checkpoint, update_checkpoint_state
from .events import EventFileWriter, SummaryFileWriter
from .histogram import make_histogram
from .png import decode_png, encode_png

__all__ = [
    "FormatError", "io_error",
    "crc32c", "mask", "unmask", "masked_crc",
    "RecordWriter", "read_records", "write_records",
    "BundleReader", "PartitionedTensor", "open_bundle", "write_bundle",
    "get_checkpoint_state", "latest_checkpoint", "update_checkpoint_state",
    "EventFileWriter", "SummaryFileWriter", "make_histogram", "encode_png", "decode_png",
]
