"""`tf.data.Options` and its sub-option objects (`tf.data.ThreadingOptions`, `tf.data.experimental.*Options`),
as TF 2.21 has them: type-checked properties that start unset (None), `merge` (a later set value wins, with
TF's warning), immutability of the objects a dataset holds, and the `dataset_options.proto` bytes that
`Dataset.with_options` records in an `OptionsDataset` node's `serialized_options` attr.

None of these options changes what a graphcompat pipeline yields: the walk is always deterministic (what
`deterministic=False` allows TF to give up, graphcompat keeps), and threading, autotuning, slack, static
graph rewrites (`experimental_optimization`, which TF applies only where they preserve results),
checkpointing, tf.data service and sharding settings concern how TF schedules the work, not its values.
"""
from __future__ import annotations

import enum
import logging
from typing import Any

_log = logging.getLogger("absl")


# ------------------------------------------------------------------------------------------------
# The proto wire format (only what dataset_options.proto needs: varints, strings, sub-messages)
# ------------------------------------------------------------------------------------------------
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # a negative int32/enum is written as its 64-bit two's complement, as protobuf
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: Any) -> bytes:
    if isinstance(value, (bytes, str)):
        data = value.encode() if isinstance(value, str) else value
        return _varint(number << 3 | 2) + _varint(len(data)) + data
    return _varint(number << 3) + _varint(int(value.value if isinstance(value, enum.Enum) else value))


# ------------------------------------------------------------------------------------------------
# Enums
# ------------------------------------------------------------------------------------------------
class AutoShardPolicy(enum.IntEnum):
    """`tf.data.experimental.AutoShardPolicy` (proto values equal the enum's)."""
    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class AutotuneAlgorithm(enum.Enum):
    """`tf.data.experimental.AutotuneAlgorithm`."""
    DEFAULT = 0
    HILL_CLIMB = 1
    GRADIENT_DESCENT = 2
    MAX_PARALLELISM = 3
    STAGE_BASED = 4


class ExternalStatePolicy(enum.Enum):
    """`tf.data.experimental.ExternalStatePolicy` (proto: POLICY_WARN = 0, POLICY_IGNORE = 1, POLICY_FAIL = 2)."""
    WARN = 0
    IGNORE = 1
    FAIL = 2


# ------------------------------------------------------------------------------------------------
# Options objects
# ------------------------------------------------------------------------------------------------
def _option(name: str, ty, doc: str, default_factory=lambda: None) -> property:
    """A type-checked property that reads its default (None, or a fresh sub-options object) until set."""
    def get(self):
        if name not in self._options:
            self._options[name] = default_factory()
        return self._options[name]

    def set_(self, value):
        if not isinstance(value, ty):
            raise TypeError(f'Property "{name}" must be of type {_tf_type_name(ty)}, got: {value} '
                            f"(type: {type(value)})")
        self._options[name] = value
    return property(get, set_, None, doc)


def _tf_type_name(ty) -> str:
    """The type as TF's message prints it (TF's classes live in tensorflow.python.data.ops.options)."""
    if ty in (bool, int, str, list):
        return str(ty)
    if issubclass(ty, enum.Enum):
        return f"<enum '{ty.__name__}'>"
    return f"<class 'tensorflow.python.data.ops.options.{ty.__name__}'>"


class OptionsBase:
    """TF's `OptionsBase`: unknown attributes are refused, and options a dataset holds are immutable."""

    # (field number, attribute) in proto order; sub-options are written even when empty, as TF does.
    _PROTO: tuple = ()
    _ALWAYS: frozenset = frozenset()  # proto3 fields without presence: written only when non-zero

    def __init__(self):
        object.__setattr__(self, "_options", {})
        object.__setattr__(self, "_mutable", True)

    def __eq__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in set(self._options) | set(other._options))

    def __ne__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return not self.__eq__(other)

    __hash__ = None

    def __setattr__(self, name: str, value) -> None:
        if not self._mutable:
            raise ValueError("Mutating `tf.data.Options()` returned by `tf.data.Dataset.options()` has no effect. "
                             "Use `tf.data.Dataset.with_options(options)` to set or update dataset options.")
        if hasattr(self, name):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")

    def _set_mutable(self, mutable: bool) -> None:
        object.__setattr__(self, "_mutable", mutable)
        for value in self._options.values():
            if isinstance(value, OptionsBase):
                value._set_mutable(mutable)

    def _serialize(self) -> bytes:
        out = b""
        for number, name in self._PROTO:
            value = getattr(self, name)
            if isinstance(value, OptionsBase):
                out += _field(number, value._serialize())
            elif name in self._ALWAYS:
                if int(value.value if isinstance(value, enum.Enum) else value):
                    out += _field(number, value)
            elif isinstance(value, list):
                for item in value:
                    out += _field(number, item)
            elif value is not None:
                out += _field(number, value)
        return out


def merge_options(*options_list: OptionsBase) -> OptionsBase:
    """TF's `merge_options`: options set to a non-default value override earlier ones (a change of a value
    set before logs TF's warning); sub-options merge recursively; `framework_type` lists concatenate."""
    if len(options_list) < 1:
        raise ValueError("At least one options should be provided")
    result_type = type(options_list[0])
    for options in options_list:
        if not isinstance(options, result_type):
            raise TypeError(f"Could not merge incompatible options of type {type(options)} and {result_type}.")
    default, result = result_type(), result_type()
    for options in options_list:
        for name in list(options._options):
            this, that, base = getattr(result, name), getattr(options, name), getattr(default, name)
            if that == base:
                continue
            if this == base:
                setattr(result, name, that)
            elif isinstance(this, OptionsBase):
                setattr(result, name, merge_options(this, that))
            elif name == "framework_type":
                setattr(result, name, this + that)
            elif this != that:
                _log.warning("Changing the value of option %s from %r to %r.", name, this, that)
                setattr(result, name, that)
    return result


class ThreadingOptions(OptionsBase):
    """`tf.data.ThreadingOptions`: graphcompat's host walk uses one thread per iterator whatever is set."""
    max_intra_op_parallelism = _option("max_intra_op_parallelism", int, "Maximum intra-op parallelism.")
    private_threadpool_size = _option("private_threadpool_size", int, "Size of a private thread pool.")
    _PROTO = ((1, "max_intra_op_parallelism"), (2, "private_threadpool_size"))


class OptimizationOptions(OptionsBase):
    """`tf.data.experimental.OptimizationOptions`: TF's static rewrites, which keep results unchanged."""
    apply_default_optimizations = _option("apply_default_optimizations", bool, "Apply TF's default rewrites.")
    filter_fusion = _option("filter_fusion", bool, "Fuse filters.")
    filter_parallelization = _option("filter_parallelization", bool, "Parallelize filters.")
    inject_prefetch = _option("inject_prefetch", bool, "Add a prefetch at the end.")
    map_and_batch_fusion = _option("map_and_batch_fusion", bool, "Fuse map and batch.")
    map_and_filter_fusion = _option("map_and_filter_fusion", bool, "Fuse map and filter.")
    map_fusion = _option("map_fusion", bool, "Fuse maps.")
    map_parallelization = _option("map_parallelization", bool, "Parallelize maps.")
    noop_elimination = _option("noop_elimination", bool, "Drop no-op transformations.")
    parallel_batch = _option("parallel_batch", bool, "Batch in parallel.")
    seq_interleave_prefetch = _option("seq_interleave_prefetch", bool, "Prefetch in sequential interleaves.")
    shuffle_and_repeat_fusion = _option("shuffle_and_repeat_fusion", bool, "Fuse shuffle and repeat.")
    _PROTO = ((1, "apply_default_optimizations"), (6, "filter_fusion"), (9, "map_and_batch_fusion"),
              (10, "map_and_filter_fusion"), (11, "map_fusion"), (12, "map_parallelization"),
              (14, "noop_elimination"), (15, "parallel_batch"), (17, "shuffle_and_repeat_fusion"),
              (18, "filter_parallelization"), (19, "inject_prefetch"), (21, "seq_interleave_prefetch"))


class AutotuneOptions(OptionsBase):
    """`tf.data.experimental.AutotuneOptions`."""
    autotune_algorithm = _option("autotune_algorithm", AutotuneAlgorithm, "The autotuning algorithm.")
    cpu_budget = _option("cpu_budget", int, "CPU budget.")
    enabled = _option("enabled", bool, "Whether autotuning is on.")
    initial_parallelism = _option("initial_parallelism", int, "Initial parallelism.")
    min_parallelism = _option("min_parallelism", int, "Minimum parallelism.")
    ram_budget = _option("ram_budget", int, "RAM budget.")
    _PROTO = ((1, "enabled"), (2, "cpu_budget"), (3, "ram_budget"), (4, "autotune_algorithm"),
              (5, "initial_parallelism"), (6, "min_parallelism"))


class DistributeOptions(OptionsBase):
    """`tf.data.experimental.DistributeOptions` (sharding under tf.distribute, which graphcompat has not)."""
    auto_shard_policy = _option("auto_shard_policy", AutoShardPolicy, "How a distributed dataset is sharded.",
                                lambda: AutoShardPolicy.AUTO)
    num_devices = _option("num_devices", int, "Number of devices.")
    _PROTO = ((1, "auto_shard_policy"), (2, "num_devices"))
    _ALWAYS = frozenset({"auto_shard_policy"})


class ServiceOptions(OptionsBase):
    """`tf.data.experimental.ServiceOptions`."""
    pinned = _option("pinned", bool, "Pinned tf.data service reads.")
    _PROTO = ((1, "pinned"),)


class Options(OptionsBase):
    """`tf.data.Options`: set attributes, then `dataset.with_options(options)`."""
    autotune = _option("autotune", AutotuneOptions, "Autotuning options.", AutotuneOptions)
    dataset_name = _option("dataset_name", str, "A name for the dataset.")
    deterministic = _option("deterministic", bool, "Whether elements come in a deterministic order "
                            "(graphcompat's always do).")
    experimental_deterministic = _option("experimental_deterministic", bool, "Deprecated: `deterministic`.")
    experimental_distribute = _option("experimental_distribute", DistributeOptions, "Distribution options.",
                                      DistributeOptions)
    experimental_external_state_policy = _option("experimental_external_state_policy", ExternalStatePolicy,
                                                 "What to do with external state when serializing.")
    experimental_optimization = _option("experimental_optimization", OptimizationOptions,
                                        "Static optimization options.", OptimizationOptions)
    experimental_service = _option("experimental_service", ServiceOptions, "tf.data service options.",
                                   ServiceOptions)
    experimental_slack = _option("experimental_slack", bool, "Whether to introduce slack.")
    experimental_symbolic_checkpoint = _option("experimental_symbolic_checkpoint", bool, "Symbolic checkpoints.")
    experimental_threading = _option("experimental_threading", ThreadingOptions, "Deprecated: `threading`.",
                                     ThreadingOptions)
    experimental_warm_start = _option("experimental_warm_start", bool, "Warm start.")
    framework_type = _option("framework_type", list, "The frameworks using this dataset.")
    threading = _option("threading", ThreadingOptions, "Threading options.", ThreadingOptions)
    _PROTO = ((1, "deterministic"), (2, "experimental_distribute"), (3, "experimental_optimization"),
              (4, "experimental_slack"), (5, "threading"), (6, "experimental_external_state_policy"),
              (7, "autotune"), (8, "experimental_symbolic_checkpoint"), (9, "experimental_warm_start"),
              (10, "dataset_name"), (11, "framework_type"), (12, "experimental_service"))

    # TF's aliases: the deprecated names read and write the new ones.
    _ALIASES = {"experimental_threading": "threading", "experimental_deterministic": "deterministic"}

    def __getattribute__(self, name: str):
        if name in Options._ALIASES:
            if name == "experimental_threading":
                _log.warning("options.experimental_threading is deprecated. Use options.threading instead.")
            name = Options._ALIASES[name]
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value) -> None:
        if name in Options._ALIASES:
            if name == "experimental_threading":
                _log.warning("options.experimental_threading is deprecated. Use options.threading instead.")
            name = Options._ALIASES[name]
        super().__setattr__(name, value)

    def merge(self, options: "Options") -> "Options":
        """A new Options: these options, overridden by what `options` sets (TF's `Options.merge`)."""
        return merge_options(self, options)


__all__ = ["AutoShardPolicy", "AutotuneAlgorithm", "AutotuneOptions", "DistributeOptions", "ExternalStatePolicy",
           "OptimizationOptions", "Options", "ServiceOptions", "ThreadingOptions", "merge_options"]
