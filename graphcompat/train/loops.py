"""Loops over training and checkpoints: `tf.train.basic_train_loop`, `checkpoints_iterator` (TF's
basic_loops.py and checkpoint_utils.py)."""
from __future__ import annotations

import time
from typing import Iterator, Optional

from graphcompat import tf_logging as logging
from graphcompat.framework import errors


def basic_train_loop(supervisor, train_step_fn, args=None, kwargs=None, master: str = "") -> None:
    """`tf.train.basic_train_loop`: calls `train_step_fn(sess, *args, **kwargs)` in a Supervisor's managed
    session until it should stop; starts over after an AbortedError."""
    args = args or []
    kwargs = kwargs or {}
    should_retry = True
    while should_retry:
        try:
            should_retry = False
            with supervisor.managed_session(master) as sess:
                while not supervisor.should_stop():
                    train_step_fn(sess, *args, **kwargs)
        except errors.AbortedError:
            should_retry = True


def wait_for_new_checkpoint(checkpoint_dir, last_checkpoint=None, seconds_to_sleep: float = 1,
                            timeout: Optional[float] = None) -> Optional[str]:
    """The latest checkpoint of `checkpoint_dir` once it differs from `last_checkpoint`; None after `timeout`."""
    from graphcompat.training.saver import latest_checkpoint
    logging.info("Waiting for new checkpoint at %s", checkpoint_dir)
    stop_time = time.time() + timeout if timeout is not None else None
    while True:
        checkpoint_path = latest_checkpoint(checkpoint_dir)
        if checkpoint_path is None or checkpoint_path == last_checkpoint:
            if stop_time is not None and time.time() + seconds_to_sleep > stop_time:
                return None
            time.sleep(seconds_to_sleep)
        else:
            logging.info("Found new checkpoint at %s", checkpoint_path)
            return checkpoint_path


def checkpoints_iterator(checkpoint_dir, min_interval_secs: float = 0, timeout: Optional[float] = None,
                         timeout_fn=None) -> Iterator[str]:
    """`tf.train.checkpoints_iterator`: yields each new checkpoint path as it appears (at most one every
    `min_interval_secs`); ends after `timeout` seconds without one, unless `timeout_fn()` says to go on."""
    checkpoint_path = None
    while True:
        new_checkpoint_path = wait_for_new_checkpoint(checkpoint_dir, checkpoint_path, timeout=timeout)
        if new_checkpoint_path:
            start = time.time()
            checkpoint_path = new_checkpoint_path
            yield checkpoint_path
            time_to_next_eval = start + min_interval_secs - time.time()
            if time_to_next_eval > 0:
                time.sleep(time_to_next_eval)
        elif timeout_fn is None:
            logging.info("Timed-out waiting for a checkpoint (without timeout_fn).")
            return
        if timeout_fn is not None and timeout_fn():
            logging.info("Done. No new checkpoints will be generated.")
            return
