"""Counters behind `graphcompat.stats()`: plans, runs per tier, every compilation and where it came from.

Every XLA compilation a session causes is counted: first compiles, recompiles for a new feed shape, and
executables loaded from JAX's persistent compilation cache instead of compiled (`disk_cache_hits`).
Per signature (`signatures`, keyed by the fetched names) the distinct input shapes it has compiled are
counted, and when one signature keeps recompiling one line says so and what to do about it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from typing import Callable, Optional

enabled = True


@dataclasses.dataclass
class Stats:
    plans_built: int = 0
    cache_hits: int = 0
    eager_runs: int = 0
    compiled_runs: int = 0
    compilations: int = 0          # every executable built for a signature (first shape or a new one)
    shape_recompiles: int = 0      # of which: a signature compiled again for a new feed shape
    disk_cache_hits: int = 0       # of which: loaded from JAX's persistent compilation cache
    compile_seconds: float = 0.0
    eager_seconds: float = 0.0
    run_seconds: float = 0.0
    signatures: dict = dataclasses.field(default_factory=dict)  # fetched names → {"shapes", "compiles"}
    # fetched names → the feed-shape signatures compiled for them: a new Session or graph with the same
    # names and shapes (a notebook cell run again) compiles again, but that is not a new shape
    shapes_seen: dict = dataclasses.field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        del out["shapes_seen"]
        out["signatures"] = {k: dict(v) for k, v in self.signatures.items()}
        return out


current = Stats()


def reset() -> None:
    global current
    current = Stats()


def record_plan() -> None:
    current.plans_built += 1


def record_hit() -> None:
    current.cache_hits += 1


def record_eager(seconds: float) -> None:
    current.eager_runs += 1
    current.eager_seconds += seconds


def record_compiled(seconds: float) -> None:
    current.compiled_runs += 1
    current.run_seconds += seconds


# --- persistent-cache hits: JAX reports them as monitoring events ------------------------------
_disk_hits = 0


def _on_event(event: str, **_) -> None:
    global _disk_hits
    if event == "/jax/compilation_cache/cache_hits":
        _disk_hits += 1


def _listen() -> None:
    try:
        import jax.monitoring
        jax.monitoring.register_event_listener(_on_event)
    except Exception:  # noqa: BLE001 (an older JAX without monitoring: hits are simply not counted)
        pass


_listen()


# --- the compile notice and the recompile warning ------------------------------------------------
# A compilation still running after `notice_after_seconds` prints one line, so a long first
# `Session.run` is visibly busy rather than hung. `None` turns the notice off. A signature that has
# compiled `recompile_warning_after` distinct feed shapes prints one line saying so.
notice_after_seconds: Optional[float] = 1.0
recompile_warning_after: Optional[int] = 8
notice_stream = sys.stderr
_timer_factory: Callable = threading.Timer  # tests substitute a fake timer


def _label(plan) -> str:
    names = [t.name for t in plan.fetch_tensors[:3]] or [op.name for op in plan.target_ops[:3]]
    label = ", ".join(names) or "(nothing)"
    return label + (", …" if len(plan.fetch_tensors) > 3 else "")


@contextlib.contextmanager
def compiling(plan, num_ops: int, signature, padded: bool = False) -> None:
    """Wraps the call that traces and compiles `plan` for a new feed-shape `signature`."""
    label = _label(plan)
    timer = None
    if notice_after_seconds is not None:
        message = f"graphcompat: compiling {num_ops} ops for {label} (first run of this signature)…"
        timer = _timer_factory(notice_after_seconds, lambda: print(message, file=notice_stream, flush=True))
        timer.daemon = True
        timer.start()
    hits_before = _disk_hits
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
    record_compile(time.perf_counter() - t0, label, signature, loaded=_disk_hits > hits_before, padded=padded)


def record_compile(seconds: float, label: str = "", signature=None, loaded: bool = False,
                   padded: bool = False, into: Optional[Stats] = None) -> None:
    """One executable built: trace + XLA compile (or a persistent-cache load) + its first run.
    `padded`: built for feeds padded to shape buckets (lowering/padding.py). `into`: the counters of the
    period that started the compile (a background compile that ends after `reset()` counts there)."""
    counters = into if into is not None else current
    counters.compilations += 1
    counters.compile_seconds += seconds
    if loaded:
        counters.disk_cache_hits += 1
    entry = counters.signatures.setdefault(label, {"shapes": 0, "compiles": 0, "padded": 0})
    entry["compiles"] += 1
    entry["padded"] += int(padded)
    seen = counters.shapes_seen.setdefault(label, set())
    if signature is not None and signature not in seen:
        seen.add(signature)
        entry["shapes"] += 1
        if entry["shapes"] > 1:
            counters.shape_recompiles += 1
        if recompile_warning_after is not None and entry["shapes"] == recompile_warning_after:
            print(f"graphcompat: {label} has compiled for {entry['shapes']} different feed shapes; every new "
                  "shape costs a compile. Feed fixed shapes (pad batches/sequences yourself) or let graphcompat "
                  "pad open dimensions (graphcompat.config.set_shape_buckets).", file=notice_stream, flush=True)
