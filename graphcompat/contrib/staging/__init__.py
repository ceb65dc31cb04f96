"""`tf.contrib.staging`: TF 1's alias of data_flow_ops.StagingArea."""
from graphcompat.ops.staging_ops import StagingArea  # noqa: F401
