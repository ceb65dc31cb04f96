"""`tf.quantization` (TF1): the fake-quantization ops of quantization-aware training
(graphcompat/ops/quantization_ops.py) and the float <-> quantized conversions of TF's 8-bit inference
graphs (graphcompat/ops/quantized_ops.py). TF 1's top-level `tf.fake_quant_*`, `tf.quantize`,
`tf.dequantize` are the same functions.
"""
from __future__ import annotations

from graphcompat.ops.quantization_ops import (fake_quant_with_min_max_args,  # noqa: F401
                                              fake_quant_with_min_max_args_gradient, fake_quant_with_min_max_vars,
                                              fake_quant_with_min_max_vars_gradient,
                                              fake_quant_with_min_max_vars_per_channel,
                                              fake_quant_with_min_max_vars_per_channel_gradient)
from graphcompat.ops.quantized_ops import (dequantize, quantize, quantize_and_dequantize,  # noqa: F401
                                           quantize_and_dequantize_v2, quantized_concat)

__all__ = ["fake_quant_with_min_max_args", "fake_quant_with_min_max_args_gradient", "fake_quant_with_min_max_vars",
           "fake_quant_with_min_max_vars_gradient", "fake_quant_with_min_max_vars_per_channel",
           "fake_quant_with_min_max_vars_per_channel_gradient", "quantize", "dequantize", "quantized_concat",
           "quantize_and_dequantize", "quantize_and_dequantize_v2"]
