"""`tf.quantization` (TF1): the fake-quantization ops of quantization-aware training
(graphcompat/ops/quantization_ops.py). TF 1's top-level `tf.fake_quant_*` are the same functions.

TF's other `tf.quantization` symbols (quantize, dequantize, quantize_and_dequantize, quantized_concat)
work on quantized dtypes (qint8, quint8 ...), which graphcompat does not have.
"""
from __future__ import annotations

from graphcompat.ops.quantization_ops import (fake_quant_with_min_max_args,  # noqa: F401
                                              fake_quant_with_min_max_args_gradient, fake_quant_with_min_max_vars,
                                              fake_quant_with_min_max_vars_gradient,
                                              fake_quant_with_min_max_vars_per_channel,
                                              fake_quant_with_min_max_vars_per_channel_gradient)

__all__ = ["fake_quant_with_min_max_args", "fake_quant_with_min_max_args_gradient", "fake_quant_with_min_max_vars",
           "fake_quant_with_min_max_vars_gradient", "fake_quant_with_min_max_vars_per_channel",
           "fake_quant_with_min_max_vars_per_channel_gradient"]
