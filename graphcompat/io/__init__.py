"""`tf.io`: TFRecord files, file reading and the parsing/decoding ops of input pipelines."""
from graphcompat.io.python_io import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,  # noqa: F401
                                      tf_record_iterator)
from graphcompat.ops.parsing_ops import (FixedLenFeature, FixedLenSequenceFeature, SparseFeature,  # noqa: F401
                                         SparseTensor, VarLenFeature, decode_raw, parse_example, parse_sequence_example,
                                         parse_single_example, parse_single_sequence_example)
from graphcompat.ops.parsing_ops import RaggedFeature, decode_json_example  # noqa: F401
from graphcompat.ops.string_ops import decode_csv, read_file  # noqa: F401

# --- tf.io.gfile: the local file system with TF's semantics and errors ----------------------------
from graphcompat.io import gfile  # noqa: F401,E402
# (training) queues, readers' file matching
from graphcompat.ops.data_flow_ops import PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue  # noqa: F401,E402
from graphcompat.ops.io_ops import matching_files  # noqa: F401,E402
from graphcompat.train.input import match_filenames_once  # noqa: F401,E402

# coverage: base64, tensor serialization, write_file/write_graph, and the image codecs TF also exports here
from graphcompat.image import (decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png,  # noqa: F401,E402
                               encode_jpeg, encode_png)
from graphcompat.ops.misc_extra_ops import (decode_base64, encode_base64, parse_tensor,  # noqa: F401,E402
                                            serialize_tensor, write_file)
from graphcompat.train import write_graph  # noqa: F401,E402
from graphcompat.ops.string_extra_ops import decode_compressed  # noqa: F401,E402
from graphcompat.ops.sparse_serialize_ops import (deserialize_many_sparse, serialize_many_sparse,  # noqa: F401,E402
                                                  serialize_sparse)
# JPEG helpers TF exports under tf.io as well as tf.image
from graphcompat.image_jpeg import decode_and_crop_jpeg, extract_jpeg_shape, is_jpeg  # noqa: F401,E402
