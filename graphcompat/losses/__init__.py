"""`tf.losses`: TF1's loss functions with weights, reductions and the LOSSES collection."""
from graphcompat.losses.losses_impl import (Reduction, absolute_difference, add_loss,  # noqa: F401
                                            compute_weighted_loss, get_losses, get_regularization_loss,
                                            get_regularization_losses, get_total_loss, hinge_loss, huber_loss,
                                            log_loss, mean_squared_error, sigmoid_cross_entropy,
                                            softmax_cross_entropy, sparse_softmax_cross_entropy)

from graphcompat.losses.losses_extra import cosine_distance, mean_pairwise_squared_error  # noqa: F401,E402
