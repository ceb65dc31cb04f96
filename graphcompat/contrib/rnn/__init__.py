"""`tf.contrib.rnn`: the TF1 contrib names of the RNN cells and helpers (same classes as tf.nn.rnn_cell), and
contrib's cells over TF's fused RNN kernels (LSTMBlockCell, LSTMBlockFusedCell, GRUBlockCell(V2))."""
from graphcompat.nn.rnn import static_bidirectional_rnn, static_rnn  # noqa: F401
from graphcompat.nn.rnn_cell import (BasicLSTMCell, BasicRNNCell, DropoutWrapper, GRUCell,  # noqa: F401
                                     LayerRNNCell, LSTMCell, LSTMStateTuple, MultiRNNCell, ResidualWrapper, RNNCell)
from graphcompat.contrib.rnn.block_cells import (GRUBlockCell, GRUBlockCellV2, LSTMBlockCell,  # noqa: F401
                                                 LSTMBlockFusedCell, LSTMBlockWrapper)
