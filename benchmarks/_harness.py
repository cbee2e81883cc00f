"""Measurement machinery for ``bench.py``: timers, round-robin sampling, statistics.

Nothing here knows about anyrun, AnyIO or the backends.
"""

from __future__ import annotations

import gc
import math
import statistics
import subprocess
from itertools import repeat
from time import perf_counter
from typing import Any, Callable, Generator

# As in timeit, the statement is pasted into the loop, so no wrapper call is timed and
# every implementation runs the very same code around its operation.
_TEMPLATE = """
{kind} timer(op, n):
    t0 = perf_counter()
    for _ in repeat(None, n):
        {stmt}
    return perf_counter() - t0
"""

Ops = dict[str, tuple[str, Any]]  # name -> (stmt, op): stmt calls op
Samples = dict[str, list[float]]  # name -> seconds per operation, one per batch


def make_timer(stmt: str, in_loop: bool) -> Callable[[Any, int], Any]:
    """Compile ``stmt``, which uses ``op``, into ``timer(op, n)``: the seconds that
    ``n`` executions of ``stmt`` take; a coroutine function if ``in_loop``."""
    namespace: dict[str, Any] = {"perf_counter": perf_counter, "repeat": repeat}
    kind = "async def" if in_loop else "def"
    exec(_TEMPLATE.format(kind=kind, stmt=stmt), namespace)
    return namespace["timer"]


def rotations(names: list[str], rounds: int) -> list[list[str]]:
    """The order of each round: every name leads in turn, so none is always first."""
    k = len(names)
    return [names[r % k :] + names[: r % k] for r in range(rounds)]


def _plan(
    ops: Ops, rounds: int, batch_time: float, in_loop: bool
) -> Generator[tuple[Any, Any, int], float, Samples]:
    """Time each op in ``rounds`` round-robin rounds of one batch each.

    A generator, so that the same plan serves plain calls and awaits: it yields
    ``(timer, op, n)`` for its driver to run, and is sent the seconds that took. The
    batch size is calibrated on the first op to last about ``batch_time`` and then
    shared by all. The garbage collector only runs between rounds, as timeit turns it
    off.
    """
    names = list(ops)
    timers = {name: make_timer(stmt, in_loop) for name, (stmt, _) in ops.items()}
    op = {name: op for name, (_, op) in ops.items()}
    n = 1
    while (elapsed := (yield timers[names[0]], op[names[0]], n)) < batch_time / 4:
        n *= 4
    n = max(1, round(n * batch_time / elapsed))
    for name in names:  # warm up: first-use imports, caches, specialisation
        yield timers[name], op[name], max(1, n // 10)
    samples: Samples = {name: [] for name in names}
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        for order in rotations(names, rounds):
            gc.collect()
            for name in order:
                samples[name].append((yield timers[name], op[name], n) / n)
    finally:
        if gc_enabled:
            gc.enable()
    return samples


def sample(ops: Ops, rounds: int, batch_time: float) -> Samples:
    """Run :func:`_plan` for plain statements, such as whole runs of a loop."""
    plan = _plan(ops, rounds, batch_time, in_loop=False)
    try:
        timer, op, n = next(plan)
        while True:
            timer, op, n = plan.send(timer(op, n))
    except StopIteration as done:
        return done.value


async def sample_in_loop(ops: Ops, rounds: int, batch_time: float) -> Samples:
    """Run :func:`_plan` for statements that await, inside the running loop."""
    plan = _plan(ops, rounds, batch_time, in_loop=True)
    try:
        timer, op, n = next(plan)
        while True:
            timer, op, n = plan.send(await timer(op, n))
    except StopIteration as done:
        return done.value


def time_commands(
    commands: dict[str, list[str]], rounds: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Wall time of each command (``name -> argv``), run once per round, round-robin,
    after one untimed run each (which also writes any missing bytecode)."""

    def wall(argv: list[str]) -> float:
        t0 = perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        return perf_counter() - t0

    for argv in commands.values():
        wall(argv)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for order in rotations(list(commands), rounds):
        for name in order:
            samples[name].append(wall(commands[name]))
    return samples


def median_ci(values: list[float], z: float = 1.96) -> float:
    """Half the width of a distribution-free 95% confidence interval of the median of
    ``values`` (from their order statistics): how far the median may be off."""
    ordered = sorted(values)
    n = len(ordered)
    k = max(0, math.floor((n - z * math.sqrt(n)) / 2))
    return (ordered[n - 1 - k] - ordered[k]) / 2


def summarize(samples: dict[str, list[float]], baseline: str) -> dict[str, Any]:
    """Median time of each name, and its ratio to ``baseline``: the median of the
    per-round ratios (batches of one round ran back to back, so pairing them cancels
    slow drifts of the machine), with ``ci``, the uncertainty of that median."""
    out = {}
    for name, times in samples.items():
        ratios = [t / b for t, b in zip(times, samples[baseline])]
        out[name] = {
            "median": statistics.median(times),
            "ratio": statistics.median(ratios),
            "ci": median_ci(ratios),
            "samples": times,
        }
    return out


def fmt_time(seconds: float) -> str:
    """``seconds`` with three significant digits and a unit from ns to s."""
    units = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"))
    scale, unit = next((u for u in units if abs(seconds) >= u[0]), (1e-9, "ns"))
    value = seconds / scale
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{digits}f} {unit}"
