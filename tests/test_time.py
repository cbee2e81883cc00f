from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

import anyrun
from anyrun.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
)
from backend_helpers import on_asyncio_only

pytestmark = pytest.mark.anyrun

Point = Callable[[], Awaitable[None]]


async def test_sleep_waits_at_least_delay() -> None:
    start = anyrun.current_time()
    await anyrun.sleep(0.05)
    assert anyrun.current_time() - start >= 0.05 - 1e-9  # uvloop's clock counts ms


async def test_sleep_until() -> None:
    deadline = anyrun.current_time() + 0.05
    await anyrun.sleep_until(deadline)
    assert anyrun.current_time() >= deadline - 1e-9


@pytest.mark.parametrize("delay", [-1, -0.001, -math.inf, math.nan])
async def test_sleep_rejects_negative_and_nan(delay: float) -> None:
    with pytest.raises(ValueError, match="delay must be a non-negative number"):
        await anyrun.sleep(delay)


async def test_sleep_until_rejects_nan() -> None:
    with pytest.raises(ValueError, match="deadline must not be NaN"):
        await anyrun.sleep_until(math.nan)


async def cancelled_after(
    backend_name: str, seconds: float, awaitable: Awaitable[Any]
) -> bool:
    """Await ``awaitable`` with a native timeout; tell whether it was cancelled."""
    if backend_name == "trio":
        with trio.move_on_after(seconds) as scope:
            await awaitable
        return scope.cancelled_caught
    try:
        await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        return True
    return False


@pytest.mark.parametrize("delay", [math.inf, 1e300, 1e7])
async def test_long_sleeps_wait_until_cancelled(
    anyrun_backend_name: str, delay: float
) -> None:
    assert await cancelled_after(anyrun_backend_name, 0.05, anyrun.sleep(delay))


async def test_sleep_forever(anyrun_backend_name: str) -> None:
    assert await cancelled_after(anyrun_backend_name, 0.01, anyrun.sleep_forever())


async def test_current_time_is_the_loop_clock(anyrun_backend_name: str) -> None:
    if anyrun_backend_name == "trio":
        native = trio.current_time
    else:
        native = asyncio.get_running_loop().time
    before = native()
    ours = anyrun.current_time()
    assert before <= ours <= native()


def test_current_time_outside_a_loop() -> None:
    with pytest.raises(anyrun.NoEventLoopError, match="there is none in this thread"):
        anyrun.current_time()
    assert issubclass(anyrun.NoEventLoopError, RuntimeError)


async def test_cancelled_exc_class(anyrun_backend_name: str) -> None:
    expected = (
        trio.Cancelled if anyrun_backend_name == "trio" else asyncio.CancelledError
    )
    assert anyrun.get_cancelled_exc_class() is expected


# Checkpoints: each is tested for letting another task run (a schedule point) and
# for raising on a pending cancellation (a cancel point).


async def yields_to_the_loop(backend_name: str, point: Point) -> bool:
    if backend_name == "trio":
        # trio may run a batch of ready tasks in any order, so count the steps of this
        # task instead: a schedule point ends one.
        this_task = trio.lowlevel.current_task()
        steps = []

        class StepCounter(trio.abc.Instrument):
            def after_task_step(self, task: trio.lowlevel.Task) -> None:
                if task is this_task:
                    steps.append(task)

        counter = StepCounter()
        trio.lowlevel.add_instrument(counter)
        try:
            await point()
        finally:
            trio.lowlevel.remove_instrument(counter)
        return bool(steps)
    ran = []

    async def other() -> None:
        ran.append(True)

    task = asyncio.get_running_loop().create_task(other())  # asyncio runs it first
    await point()
    result = bool(ran)
    await task
    return result


async def raises_when_cancelled(point: Point) -> bool:
    """Whether ``point`` raises in a cancelled scope (the same on every backend)."""
    with anyrun.CancelScope() as scope:
        scope.cancel()
        await point()
    return scope.cancelled_caught


async def raises_when_natively_cancelled(point: Point) -> bool:
    """Whether ``point`` raises after an asyncio ``Task.cancel()``."""
    raised = []

    async def cancelled_at_point() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await point()
        except asyncio.CancelledError:
            raised.append(True)
            raise
        await asyncio.sleep(0)  # delivers the cancellation the point did not

    task = asyncio.get_running_loop().create_task(cancelled_at_point())
    with pytest.raises(asyncio.CancelledError):
        await task
    return bool(raised)


POINTS = [
    pytest.param(checkpoint, id="checkpoint"),
    pytest.param(lambda: anyrun.sleep(0), id="sleep0"),
    pytest.param(lambda: anyrun.sleep_until(-math.inf), id="sleep_until_past"),
    pytest.param(cancel_shielded_checkpoint, id="cancel_shielded_checkpoint"),
    pytest.param(checkpoint_if_cancelled, id="checkpoint_if_cancelled"),
]


@pytest.mark.parametrize("point", POINTS)
async def test_schedule_points(anyrun_backend_name: str, point: Point) -> None:
    expected = point is not checkpoint_if_cancelled
    assert await yields_to_the_loop(anyrun_backend_name, point) is expected


@pytest.mark.parametrize("point", POINTS)
async def test_cancel_points(point: Point) -> None:
    expected = point is not cancel_shielded_checkpoint
    assert await raises_when_cancelled(point) is expected


@on_asyncio_only
@pytest.mark.parametrize("point", POINTS)
async def test_native_cancellation_passes_every_point(point: Point) -> None:
    # A native Task.cancel() passes through every shield: anyrun's shields are from
    # anyrun's cancel scopes only.
    assert await raises_when_natively_cancelled(point)
