from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
import trio

import anyrun
from anyrun.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
)


def run(backend: tuple[str, dict[str, Any]], func: Any, *args: Any) -> Any:
    name, options = backend
    return anyrun.run(func, *args, backend=name, backend_options=options)


def test_sleep_waits_at_least_delay(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> float:
        start = anyrun.current_time()
        await anyrun.sleep(0.05)
        return anyrun.current_time() - start

    assert run(backend, main) >= 0.05 - 1e-9  # uvloop's clock counts milliseconds


def test_sleep_until(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> tuple[float, float]:
        deadline = anyrun.current_time() + 0.05
        await anyrun.sleep_until(deadline)
        return anyrun.current_time(), deadline

    now, deadline = run(backend, main)
    assert now >= deadline - 1e-9


@pytest.mark.parametrize("deadline", [-math.inf, -1.0, 0.0])
def test_sleep_until_past_deadline_is_a_checkpoint(
    backend: tuple[str, dict[str, Any]], deadline: float
) -> None:
    assert run(
        backend, runs_other_task, backend[0], lambda: anyrun.sleep_until(deadline)
    )


@pytest.mark.parametrize("delay", [-1, -0.001, -math.inf, math.nan])
def test_sleep_rejects_negative_and_nan(
    backend: tuple[str, dict[str, Any]], delay: float
) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="delay must be a non-negative number"):
            await anyrun.sleep(delay)

    run(backend, main)


def test_sleep_until_rejects_nan(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="deadline must not be NaN"):
            await anyrun.sleep_until(math.nan)

    run(backend, main)


@pytest.mark.parametrize("delay", [math.inf, 1e300, 1e7])
def test_long_sleeps_wait_until_cancelled(
    backend: tuple[str, dict[str, Any]], delay: float
) -> None:
    async def main() -> str:
        name, _ = backend
        if name == "trio":
            with trio.move_on_after(0.05) as scope:
                await anyrun.sleep(delay)
            return "cancelled" if scope.cancelled_caught else "returned"
        try:
            await asyncio.wait_for(anyrun.sleep(delay), 0.05)
        except asyncio.TimeoutError:
            return "cancelled"
        return "returned"

    assert run(backend, main) == "cancelled"


def test_sleep_forever(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> str:
        name, _ = backend
        if name == "trio":
            with trio.move_on_after(0.01) as scope:
                await anyrun.sleep_forever()
            return "cancelled" if scope.cancelled_caught else "returned"
        try:
            await asyncio.wait_for(anyrun.sleep_forever(), 0.01)
        except asyncio.TimeoutError:
            return "cancelled"
        return "returned"

    assert run(backend, main) == "cancelled"


def test_current_time_is_the_loop_clock(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> tuple[float, float, float]:
        name, _ = backend
        native = (
            trio.current_time if name == "trio" else asyncio.get_running_loop().time
        )
        before = native()
        ours = anyrun.current_time()
        return before, ours, native()

    before, ours, after = run(backend, main)
    assert before <= ours <= after


def test_current_time_outside_a_loop() -> None:
    with pytest.raises(anyrun.NoEventLoopError, match="there is none in this thread"):
        anyrun.current_time()
    assert issubclass(anyrun.NoEventLoopError, RuntimeError)


def test_cancelled_exc_class(backend: tuple[str, dict[str, Any]]) -> None:
    async def main() -> type[BaseException]:
        return anyrun.get_cancelled_exc_class()

    expected = trio.Cancelled if backend[0] == "trio" else asyncio.CancelledError
    assert run(backend, main) is expected


# checkpoints: each is tested for letting another task run (schedule point) and for
# raising on a pending native cancellation (cancel point)


async def runs_other_task(backend_name: str, point: Any) -> bool:
    ran = []

    async def other() -> None:
        ran.append(True)

    if backend_name == "trio":
        # trio may run a batch of ready tasks in any order, so count the steps of this
        # task instead: a schedule point ends one.
        return await ends_a_trio_step(point)
    task = asyncio.get_running_loop().create_task(other())
    await point()
    result = bool(ran)
    await task
    return result


async def ends_a_trio_step(point: Any) -> bool:
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


async def raises_when_cancelled(backend_name: str, point: Any) -> bool:
    if backend_name == "trio":
        with trio.CancelScope() as scope:
            scope.cancel()
            await point()
        return scope.cancelled_caught
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await point()
    except asyncio.CancelledError:
        return True
    finally:
        # leave no cancellation pending for the rest of the test
        if hasattr(task, "uncancel"):
            task.uncancel()
    await asyncio.sleep(0)  # deliver the pending cancellation we did not see
    return False  # pragma: no cover


@pytest.mark.parametrize(
    ("point", "schedules"),
    [
        (checkpoint, True),
        (lambda: anyrun.sleep(0), True),
        (cancel_shielded_checkpoint, True),
        (checkpoint_if_cancelled, False),
    ],
    ids=[
        "checkpoint",
        "sleep0",
        "cancel_shielded_checkpoint",
        "checkpoint_if_cancelled",
    ],
)
def test_checkpoint_schedules(
    backend: tuple[str, dict[str, Any]], point: Any, schedules: bool
) -> None:
    assert run(backend, runs_other_task, backend[0], point) is schedules


def test_checkpoint_and_sleep0_are_cancel_points_on_trio() -> None:
    for point in (checkpoint, checkpoint_if_cancelled, lambda: anyrun.sleep(0)):
        assert anyrun.run(raises_when_cancelled, "trio", point, backend="trio")
    assert not anyrun.run(
        raises_when_cancelled, "trio", cancel_shielded_checkpoint, backend="trio"
    )


@pytest.mark.parametrize(
    "options", [{}, {"use_uvloop": True}], ids=["asyncio", "uvloop"]
)
def test_checkpoint_is_a_cancel_point_on_asyncio(options: dict[str, Any]) -> None:
    for point in (checkpoint, lambda: anyrun.sleep(0)):
        assert anyrun.run(
            raises_when_cancelled, "asyncio", point, backend_options=options
        )
