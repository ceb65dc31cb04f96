"""graphcompat: TensorFlow 1.x graph mode on JAX. `import graphcompat as tf`.

This module is the `tf.*` namespace. Each section re-exports one area; sub-namespaces (`tf.train`,
`tf.nn`, `tf.data` …) are packages of their own. A TF name that is not here raises a
NotImplementedError naming it (see `__getattr__` at the end).
"""
# --- framework: graphs, tensors, dtypes, shapes, constants, sessions ---------------------------
from graphcompat.framework import errors  # noqa: F401
from graphcompat.framework.dtypes import (DType, as_dtype, bfloat16, bool_ as bool, complex64, complex128,  # noqa: F401
                                          double, float16, float32, float64, half, int8, int16, int32, int64,
                                          resource, string, uint8, uint16, uint32, uint64, variant)
from graphcompat.framework.dtypes import qint8, qint16, qint32, quint8, quint16  # noqa: F401
from graphcompat.framework.ops import (Graph, GraphKeys, Operation, Tensor, add_to_collection,  # noqa: F401
                                       add_to_collections, colocate_with, container, control_dependencies, device,
                                       get_collection, get_collection_ref, get_default_graph, name_scope,
                                       reset_default_graph)
from graphcompat.framework.tensor_shape import Dimension, TensorShape  # noqa: F401
from graphcompat.framework.constant_op import (constant, convert_to_tensor, is_tensor,  # noqa: F401
                                               register_tensor_conversion_function)
from graphcompat.client.session import (ConfigProto, GPUOptions, GraphOptions, InteractiveSession,  # noqa: F401
                                        RunMetadata, RunOptions, Session, get_default_session)

# --- (importer) TensorFlow's graph protos, tensor protos, importing GraphDefs --------------------
from tensorboard.compat.proto.attr_value_pb2 import AttrValue, NameAttrList  # noqa: F401,E402
from tensorboard.compat.proto.graph_pb2 import GraphDef  # noqa: F401,E402
from tensorboard.compat.proto.meta_graph_pb2 import MetaGraphDef, TensorInfo  # noqa: F401,E402
from tensorboard.compat.proto.node_def_pb2 import NodeDef  # noqa: F401,E402
from tensorboard.compat.proto.tensor_pb2 import TensorProto  # noqa: F401,E402
from graphcompat.framework.tensor_util import make_ndarray, make_tensor_proto  # noqa: F401,E402
# import_graph_def, tf.graph_util and tf.saved_model load on first use (see _LAZY below); the op types
# TF writes into GraphDefs that only the importer imported (gradient kernels, sharded saves) are
# registered now, as every op type is once `import graphcompat` returns.
from graphcompat.ops import grad_ops as _grad_ops, sharded_save_ops as _sharded_save_ops  # noqa: F401,E402
from graphcompat.ops import list_ops as _list_ops  # noqa: F401,E402  (TF 2's TensorLists: control flow v2 loops)
from graphcompat.ops import stack_ops as _stack_ops  # noqa: F401,E402  (TF 1's while-loop gradients)
from graphcompat.ops import legacy_ops as _legacy_ops  # noqa: F401,E402  (TF 1.x op types old GraphDefs hold)
from graphcompat.ops import ref_handle_ops as _ref_handle_ops  # noqa: F401,E402  (TF 1's ref-handle resource ops)
from graphcompat.ops import special_functions_ops as _special_functions_ops  # noqa: F401,E402
from graphcompat.ops import rnn_ops as _rnn_ops  # noqa: F401,E402  (TF's fused RNN kernels: contrib LSTMBlockCell & co.)
from graphcompat.ops import cudnn_rnn_ops as _cudnn_rnn_ops  # noqa: F401,E402  (TF's cuDNN RNN kernels: contrib.cudnn_rnn)
from graphcompat.ops import more_tf_ops as _more_tf_ops  # noqa: F401,E402  (op types real TF graphs hold)
from graphcompat.ops import more_random_ops as _more_random_ops  # noqa: F401,E402  (likewise)
from graphcompat.ops import more_image_ops as _more_image_ops  # noqa: F401,E402  (likewise)
# --- (end importer) --------------------------------------------------------------------------------

# --- ops: math, array, slicing, linalg, sort (+ tf.math, tf.linalg) ----------------------------
from graphcompat.ops.array_ops import *  # noqa: F401,F403
from graphcompat.ops.math_ops import *  # noqa: F401,F403
from graphcompat.ops.math_ops import div, floor_div, mod  # noqa: F401
from graphcompat.ops.linalg_ops import *  # noqa: F401,F403
from graphcompat.ops.indexing_ops import *  # noqa: F401,F403
from graphcompat.ops.slicing_ops import slice, strided_slice  # noqa: F401
from graphcompat.ops.sort_ops import argsort, sort  # noqa: F401
from graphcompat.ops.special_math_ops import (acosh, asinh, atanh, digamma, erfc, invert_permutation,  # noqa: F401
                                              lgamma, unsorted_segment_max, unsorted_segment_min,
                                              unsorted_segment_prod, unsorted_segment_sum)
from graphcompat.ops.linalg_extra_ops import (band_part as matrix_band_part, cross, eigh as self_adjoint_eig,  # noqa: F401,E501
                                              eigvalsh as self_adjoint_eigvals, einsum, norm, qr, svd,
                                              triangular_solve as matrix_triangular_solve)
# ops13: segment reductions, scatter_nd on variables, index utilities
from graphcompat.ops.segment_ops import (batch_gather, batch_scatter_update, bincount, confusion_matrix, repeat,  # noqa: F401
                                         scatter_nd_add, scatter_nd_sub, scatter_nd_update, searchsorted,
                                         segment_max, segment_mean, segment_min, segment_prod, segment_sum,
                                         setdiff1d, sparse_segment_mean, sparse_segment_sqrt_n,
                                         sparse_segment_sum, tensor_scatter_add, tensor_scatter_sub,
                                         tensor_scatter_update, unique_with_counts, unsorted_segment_mean,
                                         unsorted_segment_sqrt_n)
from graphcompat.nn.nn_extra import (batch_to_space, batch_to_space_nd, space_to_batch,  # noqa: F401
                                     space_to_batch_nd)
from graphcompat.nn.conv_nd import required_space_to_batch_paddings  # noqa: F401,E402
from graphcompat import linalg, math  # noqa: F401
# lecture: TF1's raw arg_max/arg_min aliases
from graphcompat.ops.reduction_ops import arg_max, arg_min  # noqa: F401

# --- variables, scopes, initializers, randomness, gradients, control deps ----------------------
from graphcompat.ops.control_ops import group, no_op, tuple, with_dependencies  # noqa: F401
from graphcompat.ops.state_ops import (assign, assign_add, assign_sub, count_up_to,  # noqa: F401
                                       scatter_add, scatter_div, scatter_max, scatter_min, scatter_mul,
                                       scatter_sub, scatter_update)
from graphcompat.variables import (Variable, VariableAggregation, VariableSynchronization,  # noqa: F401
                                   all_variables, assert_variables_initialized, global_variables,
                                   global_variables_initializer, initialize_all_variables,
                                   initialize_local_variables, initialize_variables, is_variable_initialized,
                                   local_variables, local_variables_initializer, model_variables,
                                   moving_average_variables, report_uninitialized_variables,
                                   trainable_variables, variables_initializer)
from graphcompat.variable_scope import (AUTO_REUSE, VariableScope, get_local_variable,  # noqa: F401
                                        get_variable, get_variable_scope, variable_op_scope, variable_scope)
from graphcompat.init_ops import (constant_initializer, glorot_normal_initializer,  # noqa: F401
                                  glorot_uniform_initializer, ones_initializer, orthogonal_initializer,
                                  random_normal_initializer, random_uniform_initializer,
                                  truncated_normal_initializer, uniform_unit_scaling_initializer,
                                  variance_scaling_initializer, zeros_initializer)
from graphcompat import initializers  # noqa: F401
from graphcompat.partitioned_variables import (create_partitioned_variables,  # noqa: F401
                                               fixed_size_partitioner, min_max_variable_partitioner,
                                               variable_axis_size_partitioner)
from graphcompat.ops.random_ops import (multinomial, random_crop, random_gamma, random_normal,  # noqa: F401
                                        random_poisson, random_shuffle, random_uniform, set_random_seed,
                                        truncated_normal)
from graphcompat import random  # noqa: F401
from graphcompat.gradients import IndexedSlices, IndexedSlicesValue, gradients, hessians, stop_gradient  # noqa: F401
from graphcompat.custom_gradient import (NoGradient, NotDifferentiable, RegisterGradient,  # noqa: F401
                                         no_gradient,
                                         custom_gradient, grad_pass_through, recompute_grad)
from graphcompat.ops.tensor_array_ops import TensorArray  # noqa: F401
from graphcompat.ops.clip_ops import clip_by_global_norm, clip_by_norm, global_norm  # noqa: F401
# (training) variable sharing through templates
from graphcompat.template import make_template  # noqa: F401

# --- (importer) resource variables: tf.gather of one is its sparse_read (tf.assign & co. dispatch in state_ops)
from graphcompat.ops.resource_variable_ops import gather, gradients  # noqa: F401,E402
# --- TF 2's tf.GradientTape in graph mode (on tf.gradients)
from graphcompat.backprop import GradientTape  # noqa: F401,E402
# --- TF 2's tf.function (PartitionedCall / StatefulPartitionedCall of a library function) and tf.Module
from graphcompat.def_function import Module, function  # noqa: F401,E402
from graphcompat.variables import (ResourceVariable, disable_resource_variables,  # noqa: F401,E402
                                   enable_resource_variables, resource_variables_enabled)
# --- (end importer) --------------------------------------------------------------------------------

# --- control flow, data-dependent ops, checks, host callbacks ----------------------------------
from graphcompat.ops.control_flow_ops import case, cond, switch_case, while_loop  # noqa: F401
from graphcompat.ops.functional_ops import foldl, foldr, map_fn, scan  # noqa: F401
from graphcompat.ops.data_dependent_ops import (Assert, Print, boolean_mask, check_numerics,  # noqa: F401
                                                dynamic_partition, dynamic_stitch, numpy_function, py_func,
                                                py_function, unique, where, where_v2)
from graphcompat.ops.data_dependent_ops import print_v2 as print  # noqa: F401,A001
from graphcompat.ops.check_ops import *  # noqa: F401,F403
from graphcompat import debugging  # noqa: F401

# --- input pipelines, files, parsing -----------------------------------------------------------
from graphcompat import data, io  # noqa: F401
from graphcompat.io import python_io  # noqa: F401
from graphcompat.ops.parsing_ops import (FixedLenFeature, FixedLenSequenceFeature, SparseFeature,  # noqa: F401
                                         SparseTensor, SparseTensorValue, VarLenFeature, decode_raw, parse_example,
                                         parse_single_example, parse_single_sequence_example)
from graphcompat.ops.parsing_ops import decode_json_example  # noqa: F401
from graphcompat.ops.string_ops import decode_csv, fingerprint, read_file, string_split  # noqa: F401
# tf.gfile (TF1's names) and tf.io.gfile: the local file system with TF's semantics and errors
from graphcompat import gfile  # noqa: F401,E402
# ops13: sparse tensors
from graphcompat.ops.sparse_ops import (sparse_add, sparse_concat, sparse_fill_empty_rows,  # noqa: F401
                                        sparse_mask, sparse_matmul, sparse_maximum, sparse_merge, sparse_minimum,
                                        sparse_placeholder, sparse_reduce_max, sparse_reduce_max_sparse,
                                        sparse_reduce_sum, sparse_reduce_sum_sparse, sparse_reorder,
                                        sparse_reset_shape, sparse_reshape, sparse_retain, sparse_slice,
                                        sparse_softmax, sparse_split, sparse_tensor_dense_matmul,
                                        sparse_tensor_to_dense, sparse_to_dense, sparse_to_indicator,
                                        sparse_transpose)
from graphcompat import sparse  # noqa: F401
# ops13: strings
from graphcompat.ops.string_ops import (as_string, reduce_join, regex_replace, string_join,  # noqa: F401
                                        string_to_hash_bucket, string_to_hash_bucket_fast,
                                        string_to_hash_bucket_strong, string_to_number, substr)
from graphcompat.ops.string_ops import strip as string_strip  # noqa: F401
from graphcompat import strings  # noqa: F401
# ops13: lookup tables
from graphcompat.ops.lookup_ops import initialize_all_tables, tables_initializer  # noqa: F401
from graphcompat import lookup  # noqa: F401
# ops13: FFTs (tf.signal, and tf.spectral as TF1 names it: both load on first use, see _LAZY below)
from graphcompat.image_extra import extract_image_patches, extract_volume_patches  # noqa: F401
from graphcompat.nn.nn_coverage import conv2d_backprop_filter_v2, conv2d_backprop_input_v2  # noqa: F401
from graphcompat.ops.spectral_ops import fft, fft2d, fft3d, ifft, ifft2d, ifft3d  # noqa: F401
from graphcompat.ops.spectral_ops import raw_fftnd as fftnd, raw_ifftnd as ifftnd  # noqa: F401,E402
from graphcompat.ops.spectral_ops import raw_irfftnd as irfftnd, raw_rfftnd as rfftnd  # noqa: F401,E402
# (training) queues and readers of TF1 queue-based input pipelines
from graphcompat.ops.data_flow_ops import (FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase,  # noqa: F401
                                           RandomShuffleQueue)
from graphcompat.ops.io_ops import (FixedLengthRecordReader, IdentityReader, LMDBReader, ReaderBase,  # noqa: F401
                                    TextLineReader, TFRecordReader, WholeFileReader, matching_files)
from graphcompat import queue  # noqa: F401

# --- models: tf.train, tf.nn, tf.layers, tf.losses, tf.metrics, tf.contrib, tf.image -----------
from graphcompat import contrib, image, layers, losses, nn, train  # noqa: F401  (tf.metrics: _LAZY below)
from graphcompat import audio  # noqa: F401  (tf.audio: WAV codecs; loads the audio ops, gen_audio_ops's)

# --- summaries and TensorBoard -----------------------------------------------------------------
from graphcompat import summary  # noqa: F401
from graphcompat.summary import Event, SessionLog, Summary  # noqa: F401

# --- running legacy programs: tf.app, tf.flags, tf.logging, tf.compat, version ----------------
from graphcompat import app, compat, flags  # noqa: F401
from graphcompat import tf_logging as logging  # noqa: F401
from graphcompat.compat import (disable_control_flow_v2, disable_eager_execution,  # noqa: F401
                                disable_tensor_equality, disable_v2_behavior,
                                disable_v2_tensorshape, enable_control_flow_v2, enable_eager_execution,
                                enable_v2_behavior, executing_eagerly,
                                install_as_tensorflow, uninstall_as_tensorflow)

__version__ = VERSION = compat.TF_API_VERSION  # legacy programs print/compare tf.__version__
GIT_VERSION = COMPILER_VERSION = "graphcompat"

# --- tf.config: device queries, and graphcompat's executor, data-parallel and multi-host settings ---
from graphcompat import config  # noqa: F401,E402

# --- notebooks and introspection ---------------------------------------------------------------
# tf.show_graph (graphcompat/notebook.py) loads on first use: see __getattr__ below.


def stats() -> dict:
    """Plan/compile counters: plans built, cache hits, eager vs compiled runs, seconds compiling vs running."""
    from lowering import stats as _stats
    return _stats.current.as_dict()


def reset_stats() -> None:
    from lowering import stats as _stats
    _stats.reset()


# The JAX back end loads with the front end (about 0.3 s), so a program's first Session.run does not
# pay for importing JAX.
import lowering as _lowering  # noqa: F401,E402

# In a Jupyter kernel the compile notice is a quiet info line in the cell, not a stderr box. A kernel has
# imported IPython; without it the notebook module (HTML/SVG rendering) is not loaded at all.
import sys as _sys  # noqa: E402
if "IPython" in _sys.modules:
    from graphcompat import notebook as _notebook
    if _notebook.in_jupyter_kernel():
        _notebook.install_notice_display()

# Names that load on first use (graphcompat/_lazy.py): the notebook renderer, the GraphDef importer and
# what builds on it (tf.graph_util, tf.saved_model with its SavedModel proto), tf.metrics, tf.signal.
# They register no ops (their op types are defined by modules loaded above).
_LAZY = {"notebook": ("graphcompat.notebook", None), "_notebook": ("graphcompat.notebook", None),
         "show_graph": ("graphcompat.notebook", "show_graph"),
         "import_graph_def": ("graphcompat.framework.importer", "import_graph_def"),
         "graph_util": ("graphcompat.graph_util", None), "saved_model": ("graphcompat.saved_model", None),
         "metrics": ("graphcompat.metrics", None),
         "signal": ("graphcompat.signal", None), "spectral": ("graphcompat.signal", None)}


def _missing(name):
    """A TF symbol graphcompat lacks: NotImplementedError naming it (never a bare AttributeError)."""
    return compat.missing(__name__, name)


from graphcompat import _lazy  # noqa: E402
__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, _missing)


# --- coverage (issue 13 #7): namespaces and top-level symbols TF1 programs call -------------------
from graphcompat import bitwise, dtypes, manip, nest  # noqa: F401,E402
from graphcompat.ops.check_extra_ops import (assert_near, assert_proper_iterable, assert_rank_in,  # noqa: F401,E402
                                             assert_same_float_dtype, is_non_decreasing, is_numeric_tensor,
                                             is_strictly_increasing, verify_tensor_all_finite)
from graphcompat.ops.math_extra_ops import (accumulate_n, angle, betainc, bitcast,  # noqa: F401,E402
                                            broadcast_dynamic_shape, broadcast_static_shape, complex,
                                            histogram_fixed_width, histogram_fixed_width_bins, igamma, igammac,
                                            lbeta, log_sigmoid, polygamma, to_complex64, to_complex128,
                                            unravel_index, zeta)
from graphcompat.ops.math_ops import divide_no_nan as div_no_nan  # noqa: F401,E402
from graphcompat.ops.linalg_more_ops import cholesky_solve, lstsq as matrix_solve_ls  # noqa: F401,E402
from graphcompat.ops.linalg_more_ops import sqrtm as matrix_square_root  # noqa: F401,E402
from graphcompat.ops.misc_extra_ops import (clip_by_average_norm, decode_base64, encode_base64,  # noqa: F401,E402
                                            ensure_shape, parallel_stack, parse_tensor, serialize_tensor, timestamp,
                                            write_file)
from graphcompat.ops import debug_ops as _debug_ops  # noqa: F401,E402  (op types of imported graphs)
from graphcompat.ops import sparse_grad_ops as _sparse_grad_ops  # noqa: F401,E402  (likewise)
from graphcompat.ops import sparse_map_ops as _sparse_map_ops  # noqa: F401,E402  (likewise)
from graphcompat.tf1_misc import (DeviceSpec, TensorSpec, control_flow_v2_enabled,  # noqa: F401,E402
                                  convert_to_tensor_or_indexed_slices, convert_to_tensor_or_sparse_tensor,
                                  dimension_at_index, dimension_value, executing_eagerly_outside_functions,
                                  get_static_value, init_scope, is_symbolic_tensor, no_regularizer, op_scope)
from graphcompat.tf_logging import get_logger  # noqa: F401,E402
from graphcompat.random import get_seed  # noqa: F401,E402
from graphcompat import sets  # noqa: F401,E402
from graphcompat.tf1_misc import (GRAPH_DEF_VERSION, GRAPH_DEF_VERSION_MIN_CONSUMER,  # noqa: F401,E402
                                  GRAPH_DEF_VERSION_MIN_PRODUCER, AggregationMethod, UnconnectedGradients,
                                  add_check_numerics_ops)
from graphcompat.ops.extra_ops import edit_distance, guarantee_const  # noqa: F401,E402
from graphcompat.framework.errors import OpError  # noqa: F401,E402
from tensorboard.compat.proto.config_pb2 import OptimizerOptions  # noqa: F401,E402
from tensorboard.compat.proto.event_pb2 import LogMessage  # noqa: F401,E402
from tensorboard.compat.proto.summary_pb2 import HistogramProto, SummaryMetadata  # noqa: F401,E402
from graphcompat.ops.extra_ops import approx_top_k  # noqa: F401,E402
from graphcompat.ops.string_extra_ops import decode_compressed  # noqa: F401,E402
from graphcompat.ops.sparse_serialize_ops import (deserialize_many_sparse, serialize_many_sparse,  # noqa: F401,E402
                                                  serialize_sparse)
from graphcompat import ragged  # noqa: F401,E402
from graphcompat.ragged import RaggedTensor  # noqa: F401,E402
from graphcompat.ragged.ragged_tensor import RaggedTensorSpec  # noqa: F401,E402

# --- fake quantization (quantization-aware training graphs): tf.quantization and TF 1's tf.fake_quant_* ---
from graphcompat import quantization  # noqa: F401,E402
from graphcompat.quantization import (fake_quant_with_min_max_args,  # noqa: F401,E402
                                      fake_quant_with_min_max_args_gradient, fake_quant_with_min_max_vars,
                                      fake_quant_with_min_max_vars_gradient, fake_quant_with_min_max_vars_per_channel,
                                      fake_quant_with_min_max_vars_per_channel_gradient)
from graphcompat.ops.quantized_ops import dequantize, quantize, quantize_v2, quantized_concat  # noqa: F401,E402

# --- conditional accumulators (tf.ConditionalAccumulator, tf.SparseConditionalAccumulator) ---
from graphcompat.ops.accumulator_ops import (ConditionalAccumulator, ConditionalAccumulatorBase,  # noqa: F401,E402
                                             SparseConditionalAccumulator)

# --- staging areas, barriers (data_flow_ops.StagingArea / MapStagingArea / Barrier, tf.contrib.staging) and
# session tensors (tf.get_session_handle & co.) ---
from graphcompat.ops import staging_ops as _staging_ops  # noqa: F401,E402  (registers the staging op types)
from graphcompat.ops.session_ops import (delete_session_tensor, get_session_handle,  # noqa: F401,E402
                                         get_session_tensor)
from graphcompat.ops.mutex_ops import CriticalSection  # noqa: F401,E402

# Importing JAX and graphcompat leaves ~100k long-lived objects (modules, functions, classes, op records)
# that every later full garbage collection would walk again: 30 ms each, and building a graph allocates
# enough to trigger several (a 10k-op graph builds 17% faster without them). gc.freeze() moves what exists
# now into the permanent generation, which the collector skips; nothing is collected differently from here
# on. This is CPython's documented use of gc.freeze (long-lived start-up state).
import gc as _gc  # noqa: E402

_gc.freeze()
