"""`tf.contrib.cudnn_rnn`: TF 1.x's cuDNN RNN layers (CudnnLSTM, CudnnGRU, CudnnRNNTanh, CudnnRNNRelu), the
cuDNN-compatible cells, the parameter format converters and the checkpoint saveables. The ops are
graphcompat/ops/cudnn_rnn_ops.py's (TF's cuDNN kernels, run by JAX on any device)."""
from graphcompat.contrib.cudnn_rnn.cudnn_rnn_ops import (  # noqa: F401
    CUDNN_GRU, CUDNN_GRU_PARAMS_PER_LAYER, CUDNN_INPUT_AUTO_MODE, CUDNN_INPUT_LINEAR_MODE, CUDNN_INPUT_SKIP_MODE,
    CUDNN_LSTM, CUDNN_LSTM_PARAMS_PER_LAYER, CUDNN_RNN_BIDIRECTION, CUDNN_RNN_RELU, CUDNN_RNN_RELU_PARAMS_PER_LAYER,
    CUDNN_RNN_TANH, CUDNN_RNN_TANH_PARAMS_PER_LAYER, CUDNN_RNN_UNIDIRECTION, CudnnCompatibleGRUCell,
    CudnnCompatibleLSTMCell, CudnnGRUSaveable, CudnnLSTMSaveable, CudnnParamsFormatConverterGRU,
    CudnnParamsFormatConverterLSTM, CudnnParamsFormatConverterRelu, CudnnParamsFormatConverterTanh,
    CudnnRNNReluSaveable, CudnnRNNTanhSaveable)
from graphcompat.contrib.cudnn_rnn.layers import CudnnGRU, CudnnLSTM, CudnnRNNRelu, CudnnRNNTanh  # noqa: F401
