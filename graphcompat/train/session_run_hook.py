"""`tf.train.SessionRunHook` and the objects passed to it (TF's session_run_hook.py).

A MonitoredSession calls every hook's `begin()` before the graph is finalized, `after_create_session`
once a session exists (again after a recovery), `before_run` before each `run` (a hook may add fetches,
feeds and options with `SessionRunArgs`), `after_run` with the results of what it asked for, and
`end` before the session closes.
"""
from __future__ import annotations

import collections


class SessionRunHook:
    """Hook to extend calls to MonitoredSession.run(); every method is optional."""

    def begin(self) -> None:
        """Called once before using the session; the hook may still add ops to the graph."""

    def after_create_session(self, session, coord) -> None:
        """Called when a new session has been created (the graph is finalized by then)."""

    def before_run(self, run_context):
        """Called before each run(); may return a `SessionRunArgs` of extra fetches, feeds and options."""
        return None

    def after_run(self, run_context, run_values) -> None:
        """Called after each run() that did not raise, with the values of the fetches it asked for."""

    def end(self, session) -> None:
        """Called at the end of the session (also after OutOfRangeError/StopIteration ended the loop)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """`SessionRunArgs(fetches, feed_dict=None, options=None)`: what a hook adds to a run."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """What a hook knows about the run in progress: the caller's arguments and the session."""

    def __init__(self, original_args: SessionRunArgs, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self) -> SessionRunArgs:
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """Asks the MonitoredSession to stop: `should_stop()` becomes true after this run."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])):
    """`SessionRunValues(results, options, run_metadata)`: the values of a hook's fetches."""
