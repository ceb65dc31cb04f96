"""`tf.layers`: TF1's variable-scoped layers and their functional forms."""
from graphcompat.layers.base import InputSpec, Layer  # noqa: F401
from graphcompat.layers.convolutional import (AveragePooling2D, AvgPool2D, Conv2D, Conv2DTranspose,  # noqa: F401
                                              Convolution2D, Convolution2DTranspose, MaxPool2D, MaxPooling2D,
                                              average_pooling2d, conv2d, conv2d_transpose, max_pooling2d)
from graphcompat.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten  # noqa: F401
from graphcompat.layers.normalization import BatchNorm, BatchNormalization, batch_normalization  # noqa: F401
# coverage: 1-D / 3-D / separable convolutions and poolings
from graphcompat.layers.convolutional_nd import (AveragePooling1D, AveragePooling3D, Conv1D, Conv3D,  # noqa: F401,E402
                                                 Conv3DTranspose, MaxPooling1D, MaxPooling3D, SeparableConv1D,
                                                 SeparableConv2D, average_pooling1d, average_pooling3d, conv1d,
                                                 conv3d, conv3d_transpose, max_pooling1d, max_pooling3d,
                                                 separable_conv1d, separable_conv2d)
