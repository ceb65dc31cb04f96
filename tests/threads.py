"""Bounded thread helpers for tests: every thread a test starts is joined with a timeout and checked."""
from __future__ import annotations

import threading
import time

# Generous bounds: they only decide when a hang is declared a failure, never what a test measures.
JOIN_SECONDS = 30.0


class Background:
    """Runs `fn()` in a daemon thread; `join()` returns its result or re-raises its exception, and fails
    the test if the thread is still running after `timeout` seconds."""

    def __init__(self, fn, name: str = "test-background"):
        self._fn = fn
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.result = self._fn()
        except BaseException as e:  # noqa: BLE001  (handed to the test thread)
            self.error = e

    def join(self, timeout: float = JOIN_SECONDS):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"thread {self.thread.name} still running after {timeout}s"
        if self.error is not None:
            raise self.error
        return self.result

    def is_blocked(self, settle: float = 0.3) -> bool:
        """True when the thread is still running after `settle` seconds (it is waiting on something)."""
        self.thread.join(settle)
        return self.thread.is_alive()


def wait_until(predicate, timeout: float = JOIN_SECONDS, interval: float = 0.01) -> None:
    """Polls `predicate()` until it holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)


def join_all(threads, timeout: float = JOIN_SECONDS) -> None:
    """Joins threads (e.g. QueueRunner threads) with one overall deadline; fails on stragglers."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running: {alive}"
