"""One module per op family; importing them registers their rules."""
from lowering.rules import array, linalg, math, sort  # noqa: F401
from lowering.rules import gradients, random, segment, state, train  # noqa: F401
from lowering.rules import resource  # noqa: F401  (after train and segment: ResourceApply* and ResourceScatterNd*
#                                                    reuse their Apply* and ScatterNd* rules)
from lowering.rules import grad_ops, sharded_save  # noqa: F401
from lowering.rules import data, saver, summary  # noqa: F401
from lowering.rules import data_more  # noqa: F401  (after data: its iterator rules serve TF 1's op types too)
from lowering.rules import control_flow, data_dependent, image  # noqa: F401
from lowering.rules import nn  # noqa: F401
from lowering.rules import sparse  # noqa: F401
from lowering.rules import strings  # noqa: F401
from lowering.rules import lookup  # noqa: F401
from lowering.rules import staging  # noqa: F401  (staging areas, barriers, session tensors)
from lowering.rules import nn_extra  # noqa: F401
from lowering.rules import spectral  # noqa: F401
from lowering.rules import image_extra  # noqa: F401
from lowering.rules import queues, readers  # noqa: F401
from lowering.rules import accumulators  # noqa: F401  (after queues: shares its resource helpers)
from lowering.rules import counts, sparse_cross  # noqa: F401
from lowering.rules import tensor_array  # noqa: F401
from lowering.rules import stacks  # noqa: F401
from lowering.rules import math_extra  # noqa: F401
from lowering.rules import linalg_more  # noqa: F401
from lowering.rules import misc_extra  # noqa: F401
from lowering.rules import stateless_random  # noqa: F401
from lowering.rules import sets  # noqa: F401
from lowering.rules import extra  # noqa: F401
from lowering.rules import image_boxes  # noqa: F401
from lowering.rules import string_extra  # noqa: F401
from lowering.rules import sparse_serialize  # noqa: F401
from lowering.rules import morphology  # noqa: F401
from lowering.rules import list_ops  # noqa: F401
from lowering.rules import fractional_pool  # noqa: F401
from lowering.rules import ragged  # noqa: F401
from lowering.rules import media  # noqa: F401
from lowering.rules import quantization  # noqa: F401
from lowering.rules import quantized  # noqa: F401
from lowering.rules import unicode  # noqa: F401
from lowering.rules import image_jpeg  # noqa: F401
from lowering.rules import debug  # noqa: F401
from lowering.rules import sparse_grads  # noqa: F401
from lowering.rules import sparse_map  # noqa: F401
from lowering.rules import legacy  # noqa: F401  (after the families whose rules the TF 1.x op types share)
from lowering.rules import ref_handles  # noqa: F401  (after lookup, queues, readers, state, stacks: reuses their rules)
from lowering.rules import special_functions  # noqa: F401
from lowering.rules import rnn  # noqa: F401
from lowering.rules import cudnn_rnn  # noqa: F401
from lowering.rules import more_tf_ops, more_random, more_image  # noqa: F401  (after the rules they share)
from lowering.rules import summary_writer  # noqa: F401  (after summary: shares its image, audio and histogram code)
