"""`tf.nn`: activations, losses, convolution/pooling, normalization, embeddings, sampled losses, RNNs."""
from graphcompat.nn.nn_ops import (avg_pool, avg_pool2d, bias_add, conv1d, conv2d,  # noqa: F401
                                   conv2d_transpose, dropout, elu, in_top_k,
                                   l2_loss, leaky_relu, local_response_normalization, log_softmax, lrn, max_pool,
                                   max_pool2d, relu, relu6, selu, sigmoid, softmax,
                                   softmax_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2,
                                   softplus, softsign, sparse_softmax_cross_entropy_with_logits, tanh, top_k,
                                   xw_plus_b)
from graphcompat.nn.nn_impl import (batch_normalization, fused_batch_norm, l2_normalize, moments,  # noqa: F401
                                    nce_loss, sampled_softmax_loss, sigmoid_cross_entropy_with_logits,
                                    weighted_cross_entropy_with_logits, zero_fraction)
from graphcompat.nn.embedding_ops import embedding_lookup, embedding_lookup_sparse  # noqa: F401
from graphcompat.nn.candidate_sampling import (all_candidate_sampler, fixed_unigram_candidate_sampler, learned_unigram_candidate_sampler, compute_accidental_hits,  # noqa: F401
                                               log_uniform_candidate_sampler, uniform_candidate_sampler)
from graphcompat.nn import rnn_cell  # noqa: F401,E402
from graphcompat.nn.rnn import (bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn,  # noqa: F401,E402
                                static_rnn)
# ops13: 3-D conv/pooling, 1-D pooling, pool, space/batch/depth, argmax pooling, CTC, swish, moments
from graphcompat.nn.nn_extra import (avg_pool1d, avg_pool3d, batch_to_space_nd, conv3d,  # noqa: F401,E402
                                     conv3d_transpose, crelu, ctc_beam_search_decoder, ctc_greedy_decoder,
                                     ctc_loss, depth_to_space, max_pool1d, max_pool3d, max_pool_with_argmax,
                                     normalize_moments, relu_layer, silu, space_to_batch, space_to_depth,
                                     swish, weighted_moments)
# coverage: convolution gradients as ops, transposed/v2 convs and pools, log_poisson_loss, statistics, safe lookups
from graphcompat.nn.nn_coverage import (avg_pool_v2, batch_norm_with_global_normalization,  # noqa: F401,E402
                                        conv1d_transpose, conv2d_backprop_filter, conv2d_backprop_input,
                                        conv_transpose, depthwise_conv2d_backprop_filter,
                                        depthwise_conv2d_backprop_input, depthwise_conv2d_native,
                                        depthwise_conv2d_native_backprop_filter,
                                        depthwise_conv2d_native_backprop_input, log_poisson_loss, max_pool_v2,
                                        safe_embedding_lookup_sparse, sufficient_statistics)
from graphcompat.ops.extra_ops import approx_max_k, approx_min_k  # noqa: F401,E402
from graphcompat.nn.raw_rnn import raw_rnn  # noqa: F401,E402
from graphcompat.nn.morphology import dilation2d, erosion2d  # noqa: F401,E402
# N-D convolution / pooling as TF builds them (dilations via SpaceToBatchND), conv3d's filter gradient
from graphcompat.nn.conv_nd import (atrous_conv2d, atrous_conv2d_transpose, conv3d_backprop_filter,  # noqa: F401,E402
                                    conv3d_backprop_filter_v2, convolution, depthwise_conv2d, pool,
                                    separable_conv2d, with_space_to_batch)
from graphcompat.nn.nn_misc import collapse_repeated, compute_average_loss, scale_regularization_loss  # noqa: F401,E402
from graphcompat.nn.ctc_v2 import ctc_beam_search_decoder_v2, ctc_loss_v2, ctc_unique_labels  # noqa: F401,E402
from graphcompat.nn.fractional_pool import fractional_avg_pool, fractional_max_pool  # noqa: F401,E402
from graphcompat.ops.quantized_ops import (quantized_avg_pool, quantized_conv2d, quantized_max_pool,  # noqa: F401,E402
                                           quantized_relu_x)
