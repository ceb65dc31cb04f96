"""`tf.train`: optimizers, global step, learning-rate schedules, Saver and checkpoints, Example protos."""
from graphcompat.gradients import IndexedSlices  # noqa: F401
from graphcompat.train.learning_rate_decay import (cosine_decay, exponential_decay,  # noqa: F401
                                                   inverse_time_decay, natural_exp_decay, piecewise_constant,
                                                   piecewise_constant_decay, polynomial_decay)
from graphcompat.train.optimizer import Optimizer  # noqa: F401
from graphcompat.train.optimizers import (AdadeltaOptimizer, AdagradDAOptimizer, AdagradOptimizer,  # noqa: F401
                                          AdamOptimizer, FtrlOptimizer, GradientDescentOptimizer, MomentumOptimizer,
                                          ProximalAdagradOptimizer, ProximalGradientDescentOptimizer,
                                          RMSPropOptimizer)
from graphcompat.train.training_util import (assert_global_step, create_global_step,  # noqa: F401
                                             get_global_step, get_or_create_global_step, global_step)
from graphcompat.training import *  # noqa: F401,F403,E402  (Saver, checkpoint readers, meta graphs)
from graphcompat.training import SaverDef, CheckpointState  # noqa: F401,E402
from graphcompat.formats.example_proto import (BytesList, Example, Feature, FeatureList, FeatureLists,  # noqa: F401,E402
                                            Features, FloatList, Int64List, SequenceExample)

# --- training loops and queue-based input pipelines (helper 'training') ---
from graphcompat.train import queue_runner  # noqa: F401,E402  (the tf.train.queue_runner module)
from graphcompat.train.coordinator import Coordinator, LooperThread  # noqa: F401,E402
from graphcompat.train.queue_runner import QueueRunner, add_queue_runner, start_queue_runners  # noqa: F401,E402
from graphcompat.train.input import (batch, batch_join, input_producer, limit_epochs,  # noqa: F401,E402
                                     match_filenames_once, maybe_batch, maybe_batch_join, maybe_shuffle_batch,
                                     maybe_shuffle_batch_join, range_input_producer, shuffle_batch,
                                     shuffle_batch_join, slice_input_producer, string_input_producer)

# Training loops, hooks, session managers, moving averages, warm starting and the (scaleout) TF1
# distributed-runtime names (ClusterSpec and replica_device_setter as TF's; Server raises saying to use
# graphcompat.config.distributed + data_parallel) load on first use: they register no ops, and most
# programs never touch them, so `import graphcompat` does not pay for them (graphcompat/_lazy.py).
from graphcompat import _lazy  # noqa: E402
_PACKAGE = "graphcompat.train."
_LAZY = {
    **_lazy.names_of(_PACKAGE + "session_run_hook", "SessionRunArgs SessionRunContext SessionRunHook SessionRunValues",
                     "session_run_hook"),
    **_lazy.names_of(_PACKAGE + "basic_session_run_hooks",
                     "CheckpointSaverHook CheckpointSaverListener FeedFnHook FinalOpsHook GlobalStepWaiterHook "
                     "LoggingTensorHook NanLossDuringTrainingError NanTensorHook ProfilerHook SecondOrStepTimer "
                     "StepCounterHook StopAtStepHook SummarySaverHook", "basic_session_run_hooks"),
    **_lazy.names_of(_PACKAGE + "session_manager", "SessionManager", "session_manager"),
    **_lazy.names_of(_PACKAGE + "supervisor", "Supervisor", "supervisor"),
    **_lazy.names_of(_PACKAGE + "moving_averages", "ExponentialMovingAverage", "moving_averages"),
    **_lazy.names_of(_PACKAGE + "warm_starting", "VocabInfo warm_start", "warm_starting"),
    **_lazy.names_of(_PACKAGE + "loops", "basic_train_loop checkpoints_iterator", "loops"),
    **_lazy.names_of(_PACKAGE + "monitored_session",
                     "ChiefSessionCreator MonitoredSession MonitoredTrainingSession Scaffold SessionCreator "
                     "SingularMonitoredSession WorkerSessionCreator", "monitored_session"),
    **_lazy.names_of(_PACKAGE + "distributed", "ClusterSpec Server replica_device_setter", "distributed"),
}


def _missing(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)


__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, _missing)


# coverage: the remaining TF1 learning-rate decays (TF's math-op composites)
from graphcompat.train.decay_extra import (cosine_decay_restarts, linear_cosine_decay,  # noqa: F401,E402
                                           noisy_linear_cosine_decay)
