"""The ops TF's sharded Saver writes into every meta graph it exports, SavedModels included:
`StaticRegexFullMatch` and `StringJoin` (the `<prefix>_temp/part` name), `ShardedFilename`
(`part-00000-of-00001`) and `MergeV2Checkpoints` (the shards' bundles merged under the final prefix).

A graph TF wrote cannot be imported without their definitions, so they are defined here unless an op
family defines them first (the string ops belong with tf.strings). Lowerings: lowering/rules/sharded_save.py.
"""
from graphcompat.framework import dtypes as _dt
from graphcompat.framework.registry import OP_DEFS, defop, no_outputs, unchanged_shape

if "StaticRegexFullMatch" not in OP_DEFS:
    defop("StaticRegexFullMatch", "input: string -> output: bool", attrs={"pattern": ""}, shape=unchanged_shape)
if "StringJoin" not in OP_DEFS:
    def _join_shape(ctx):
        shapes = [t.shape for t in ctx.inputs if t.shape.ndims != 0]
        return [shapes[0] if shapes else ctx.shape(0)]
    defop("StringJoin", "inputs: N * string -> output: string", attrs={"separator": ""}, shape=_join_shape)
if "ShardedFilename" not in OP_DEFS:
    defop("ShardedFilename", "basename: string, shard: int32, num_shards: int32 -> filename: string",
          shape=lambda ctx: [ctx.shape(0)])
if "MergeV2Checkpoints" not in OP_DEFS:
    defop("MergeV2Checkpoints", "checkpoint_prefixes: string, destination_prefix: string ->",
          attrs={"delete_old_dirs": True, "allow_missing_files": False}, shape=no_outputs, stateful=True)
del _dt
