"""The ops TF's sharded Saver writes into every meta graph it exports, SavedModels included:
`StaticRegexFullMatch` and `StringJoin` (the `<prefix>_temp/part` name), `ShardedFilename`
(`part-00000-of-00001`) and `MergeV2Checkpoints` (the shards' bundles merged under the final prefix).

A graph TF wrote cannot be imported without their definitions. The string ops are defined with tf.strings
(graphcompat/ops/string_ops.py, imported here so that this module suffices); the file ops here.
Lowerings: lowering/rules/sharded_save.py and lowering/rules/strings.py.
"""
from graphcompat.framework.registry import defop, no_outputs
from graphcompat.ops import string_ops  # noqa: F401  (StaticRegexFullMatch, StringJoin)

defop("ShardedFilename", "basename: string, shard: int32, num_shards: int32 -> filename: string",
      shape=lambda ctx: [ctx.shape(0)])
# the glob of every shard's file name (TF 1's V1 Saver records it for the checkpoint path)
defop("ShardedFilespec", "basename: string, num_shards: int32 -> filename: string", shape=lambda ctx: [ctx.shape(0)])
defop("MergeV2Checkpoints", "checkpoint_prefixes: string, destination_prefix: string ->",
      attrs={"delete_old_dirs": True, "allow_missing_files": False}, shape=no_outputs, stateful=True)
