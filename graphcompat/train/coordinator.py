"""`tf.train.Coordinator` and `tf.train.LooperThread`: stopping a set of threads together.

Semantics follow TF's coordinator.py: the first exception reported through `request_stop(ex)` (other
than the clean-stop types, OutOfRangeError by default) is re-raised by `join()` and by
`raise_requested_exception()`; `join` waits for the stop request, then gives the threads
`stop_grace_period_secs` to finish before it reports stragglers.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterable, Optional

from graphcompat import tf_logging as logging
from graphcompat.framework import errors


class Coordinator:
    """`tf.train.Coordinator(clean_stop_exception_types=None)`."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads: set = set()

    def _filter_exception(self, ex):
        error = ex[1] if isinstance(ex, tuple) else ex
        return None if isinstance(error, self._clean_stop_exception_types) else ex

    def request_stop(self, ex=None) -> None:
        """Asks every coordinated thread to stop; `ex` (an exception or `sys.exc_info()`) is kept for join().

        After `join()`, reporting a new exception raises it at once (there is nobody left to report to).
        """
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                if isinstance(ex, tuple):
                    raise ex[1]
                if ex is not None:
                    current = sys.exc_info()[1]
                    raise current if current is not None else ex
            if self._stop_event.is_set():
                return
            if ex and self._exc_info_to_raise is None:
                if isinstance(ex, tuple):
                    logging.info("Error reported to Coordinator: %s", ex[1])
                    self._exc_info_to_raise = ex
                else:
                    # TF records the exception being handled (request_stop(e) is called in `except`);
                    # outside an `except` block that is nothing, which TF reports as a ValueError.
                    logging.info("Error reported to Coordinator: %s, %s", type(ex), ex)
                    self._exc_info_to_raise = sys.exc_info()
                if self._exc_info_to_raise[1] is None:
                    try:
                        raise ValueError(f"ex must be a tuple or sys.exc_info must return the current "
                                         f"exception: {self._exc_info_to_raise}")
                    except ValueError:
                        self._exc_info_to_raise = sys.exc_info()
            self._stop_event.set()

    def clear_stop(self) -> None:
        """Clears the stop request and any recorded exception, so the coordinator can be reused."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """`with coord.stop_on_exception():` any exception inside requests a stop instead of propagating."""
        try:
            yield
        except:  # noqa: E722  (TF catches everything, including SystemExit)
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: Optional[float] = None) -> bool:
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads: Optional[Iterable] = None, stop_grace_period_secs: float = 120,
             ignore_live_threads: bool = False) -> None:
        """Waits for a stop request, then for the threads; re-raises a reported exception.

        Threads still alive `stop_grace_period_secs` after the stop request raise RuntimeError naming
        them (or are only logged with `ignore_live_threads=True`).
        """
        with self._lock:
            all_threads = set(self._registered_threads)
            if threads is not None:
                all_threads |= set(threads)
            all_threads = list(all_threads)
        while any(t.is_alive() for t in all_threads) and not self.wait_for_stop(1.0):
            pass
        wait = 0.001
        remaining = stop_grace_period_secs
        while any(t.is_alive() for t in all_threads) and remaining >= 0.0:
            time.sleep(wait)
            remaining -= wait
            wait = max(min(2 * wait, remaining), 0.001)
        stragglers = [t.name for t in all_threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]
            if stragglers:
                if ignore_live_threads:
                    logging.info("Coordinator stopped with threads still running: %s", " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: " + " ".join(stragglers))

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raises the exception passed to `request_stop`, if any."""
        with self._lock:
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]


class LooperThread(threading.Thread):
    """`tf.train.LooperThread(coord, timer_interval_secs, target=None, args=None, kwargs=None)`: a daemon
    thread that calls `run_loop` (or `target`) every `timer_interval_secs` (or as fast as it can) until
    the coordinator stops."""

    def __init__(self, coord: Coordinator, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if self._target:
            self._args = args or ()
            self._kwargs = kwargs or {}
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass 'target'")
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord: Coordinator, timer_interval_secs, target, args=None, kwargs=None) -> "LooperThread":
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.time()
                while not self._coord.wait_for_stop(next_time - time.time()):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once when the thread starts."""

    def stop_loop(self) -> None:
        """Called once before the thread ends."""

    def run_loop(self) -> None:
        if self._target:
            self._target(*self._args, **self._kwargs)
