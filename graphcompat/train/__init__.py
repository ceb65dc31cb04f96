"""`tf.train`: optimizers, global step, learning-rate schedules, Saver and checkpoints, Example protos."""
from graphcompat.gradients import IndexedSlices  # noqa: F401
from graphcompat.train.learning_rate_decay import (cosine_decay, exponential_decay,  # noqa: F401
                                                   inverse_time_decay, natural_exp_decay, piecewise_constant,
                                                   piecewise_constant_decay, polynomial_decay)
from graphcompat.train.optimizer import Optimizer  # noqa: F401
from graphcompat.train.optimizers import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,  # noqa: F401
                                          FtrlOptimizer, GradientDescentOptimizer, MomentumOptimizer,
                                          ProximalAdagradOptimizer, ProximalGradientDescentOptimizer,
                                          RMSPropOptimizer)
from graphcompat.train.training_util import (assert_global_step, create_global_step,  # noqa: F401
                                             get_global_step, get_or_create_global_step, global_step)
from graphcompat.training import *  # noqa: F401,F403,E402  (Saver, checkpoint readers, meta graphs)
from graphcompat.training import SaverDef, CheckpointState  # noqa: F401,E402
from graphcompat.data.example_proto import (BytesList, Example, Feature, FeatureList, FeatureLists,  # noqa: F401,E402
                                            Features, FloatList, Int64List, SequenceExample)

# --- training loops and queue-based input pipelines (helper 'training') ---
from graphcompat.train import queue_runner  # noqa: F401,E402  (the tf.train.queue_runner module)
from graphcompat.train.coordinator import Coordinator, LooperThread  # noqa: F401,E402
from graphcompat.train.queue_runner import QueueRunner, add_queue_runner, start_queue_runners  # noqa: F401,E402
from graphcompat.train.input import (batch, batch_join, input_producer, limit_epochs,  # noqa: F401,E402
                                     match_filenames_once, maybe_batch, maybe_batch_join, maybe_shuffle_batch,
                                     maybe_shuffle_batch_join, range_input_producer, shuffle_batch,
                                     shuffle_batch_join, slice_input_producer, string_input_producer)
from graphcompat.train.session_run_hook import (SessionRunArgs, SessionRunContext, SessionRunHook,  # noqa: F401,E402
                                                SessionRunValues)
from graphcompat.train.basic_session_run_hooks import (CheckpointSaverHook, CheckpointSaverListener,  # noqa: F401,E402
                                                       FeedFnHook, FinalOpsHook, GlobalStepWaiterHook,
                                                       LoggingTensorHook, NanLossDuringTrainingError, NanTensorHook,
                                                       ProfilerHook, SecondOrStepTimer, StepCounterHook,
                                                       StopAtStepHook, SummarySaverHook)
from graphcompat.train.session_manager import SessionManager  # noqa: F401,E402
from graphcompat.train.supervisor import Supervisor  # noqa: F401,E402
from graphcompat.train.moving_averages import ExponentialMovingAverage  # noqa: F401,E402
from graphcompat.train.warm_starting import VocabInfo, warm_start  # noqa: F401,E402
from graphcompat.train.loops import basic_train_loop, checkpoints_iterator  # noqa: F401,E402
from graphcompat.train.monitored_session import (ChiefSessionCreator, MonitoredSession,  # noqa: F401,E402
                                                 MonitoredTrainingSession, Scaffold, SessionCreator,
                                                 SingularMonitoredSession, WorkerSessionCreator)

# --- (scaleout) TF1's distributed-runtime names: ClusterSpec and replica_device_setter as TF's, Server
# raises saying to use graphcompat.config.distributed + data_parallel (graphcompat/train/distributed.py)
from graphcompat.train.distributed import ClusterSpec, Server, replica_device_setter  # noqa: F401,E402


def __getattr__(name: str):
    from graphcompat import compat
    return compat.missing(__name__, name)


# coverage: the remaining TF1 learning-rate decays (TF's math-op composites)
from graphcompat.train.decay_extra import (cosine_decay_restarts, linear_cosine_decay,  # noqa: F401,E402
                                           noisy_linear_cosine_decay)
