from __future__ import annotations

import asyncio
import contextlib
import math
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

import anyrun
from anyrun.lowlevel import cancel_shielded_checkpoint, checkpoint
from backend_helpers import on_asyncio_only

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytestmark = pytest.mark.anyrun

Cancelled = BaseException  # for annotations; the class is the backend's


def cancelled_class() -> type[BaseException]:
    return anyrun.get_cancelled_exc_class()


# -- Cancelling and catching --------------------------------------------------------


async def test_cancel_raises_at_next_checkpoint_and_is_caught() -> None:
    reached = []
    with anyrun.CancelScope() as scope:
        assert not scope.cancel_called
        scope.cancel()
        assert scope.cancel_called
        reached.append("before")  # cancel() itself does not raise
        await checkpoint()
        reached.append("after")
    assert reached == ["before"]
    assert scope.cancelled_caught


async def test_uncancelled_scope_catches_nothing() -> None:
    with anyrun.CancelScope() as scope:
        await checkpoint()
    assert not scope.cancel_called
    assert not scope.cancelled_caught


async def test_cancelled_scope_left_without_checkpoint() -> None:
    with anyrun.CancelScope() as scope:
        scope.cancel()
    assert scope.cancel_called
    assert not scope.cancelled_caught
    await checkpoint()  # nothing is left pending


async def test_cancel_before_entering() -> None:
    scope = anyrun.CancelScope()
    scope.cancel()
    with scope:
        await checkpoint()
        pytest.fail("not cancelled")
    assert scope.cancelled_caught


async def test_cancel_after_exit_does_nothing() -> None:
    with anyrun.CancelScope() as scope:
        pass
    scope.cancel()
    await checkpoint()
    assert scope.cancel_called
    assert not scope.cancelled_caught


def level_points(backend_name: str) -> list[Callable[[], Awaitable[Any]]]:
    """Ways to wait: anyrun's, and the backend's own."""
    points: list[Callable[[], Awaitable[Any]]] = [
        checkpoint,
        lambda: anyrun.sleep(0),
        lambda: anyrun.sleep(10),
        anyrun.sleep_forever,
    ]
    if backend_name == "trio":
        points += [lambda: trio.sleep(0), lambda: trio.Event().wait()]
    else:

        async def queue_get() -> None:
            await asyncio.Queue[None]().get()

        points += [
            lambda: asyncio.sleep(0),
            lambda: asyncio.sleep(10),
            lambda: asyncio.get_running_loop().create_future(),
            queue_get,
            lambda: asyncio.Event().wait(),
        ]
    return points


async def test_level_cancellation_every_checkpoint_raises(
    anyrun_backend_name: str,
) -> None:
    points = level_points(anyrun_backend_name)
    raised = 0
    with anyrun.CancelScope() as scope:
        scope.cancel()
        for point in points:
            try:
                await point()
            except cancelled_class():
                raised += 1
            else:
                pytest.fail(f"{point} did not raise")
    assert raised == len(points)
    assert not scope.cancelled_caught  # every cancellation was swallowed by the test


async def test_cancel_from_another_task_wakes_a_blocked_task() -> None:
    async def cancel_soon(scope: anyrun.CancelScope) -> None:
        await anyrun.wait_all_tasks_blocked()
        scope.cancel()

    async with anyrun.create_task_group() as tg:
        with anyrun.CancelScope() as scope:
            tg.start_soon(cancel_soon, scope)
            await anyrun.sleep_forever()
    assert scope.cancelled_caught


async def test_cancelled_exception_carries_reason(anyrun_backend_name: str) -> None:
    with anyrun.CancelScope() as scope:
        scope.cancel("enough")
        messages = []
        try:
            await checkpoint()
        except cancelled_class() as exc:
            messages.append(str(exc))
            raise
    assert scope.cancelled_caught
    if anyrun_backend_name == "asyncio":
        assert "reason: enough" in messages[0]


# -- Nesting and shielding ----------------------------------------------------------


async def test_outer_cancellation_is_caught_by_outer_scope() -> None:
    with anyrun.CancelScope() as outer:
        with anyrun.CancelScope() as inner:
            outer.cancel()
            await checkpoint()
        pytest.fail("inner scope swallowed the outer cancellation")
    assert outer.cancelled_caught
    assert not inner.cancelled_caught
    assert not inner.cancel_called


async def test_both_cancelled_outer_catches() -> None:
    with anyrun.CancelScope() as outer, anyrun.CancelScope() as inner:
        inner.cancel()
        outer.cancel()
        await checkpoint()
    assert outer.cancelled_caught
    assert not inner.cancelled_caught


async def test_inner_cancellation_does_not_reach_outer() -> None:
    with anyrun.CancelScope() as outer:
        with anyrun.CancelScope() as inner:
            inner.cancel()
            await checkpoint()
        await checkpoint()
    assert inner.cancelled_caught
    assert not outer.cancel_called
    assert not outer.cancelled_caught


async def test_shield_blocks_outer_cancellation_until_left() -> None:
    steps = []
    with anyrun.CancelScope() as outer:
        outer.cancel()
        with anyrun.CancelScope(shield=True) as shielded:
            await anyrun.sleep(0.001)
            await checkpoint()
            steps.append("shielded")
        steps.append("left shield")
        await checkpoint()
        steps.append("not reached")
    assert steps == ["shielded", "left shield"]
    assert outer.cancelled_caught
    assert not shielded.cancelled_caught


async def test_shielded_scope_is_cancelled_by_itself() -> None:
    with anyrun.CancelScope(shield=True) as scope:
        scope.cancel()
        await checkpoint()
    assert scope.cancelled_caught


async def test_shield_can_be_set_and_cleared() -> None:
    with anyrun.CancelScope() as outer, anyrun.CancelScope() as inner:
        inner.shield = True
        assert inner.shield
        outer.cancel()
        await checkpoint()  # shielded
        inner.shield = False
        assert not inner.shield
        await checkpoint()
        pytest.fail("not cancelled once the shield was cleared")
    assert outer.cancelled_caught


async def test_clearing_shield_wakes_blocked_task() -> None:
    async def unshield_later(scope: anyrun.CancelScope) -> None:
        await anyrun.wait_all_tasks_blocked()
        scope.shield = False

    async with anyrun.create_task_group() as tg:
        with anyrun.CancelScope() as outer:
            outer.cancel()
            with anyrun.CancelScope(shield=True) as inner:
                tg.start_soon(unshield_later, inner)
                await anyrun.sleep_forever()
    assert outer.cancelled_caught


async def test_shield_must_be_a_bool() -> None:
    scope = anyrun.CancelScope()
    with pytest.raises(TypeError, match="shield must be a bool"):
        scope.shield = 1  # type: ignore[assignment]


async def test_cancellation_reaches_tasks_of_inner_task_groups() -> None:
    cancelled = []

    async def child() -> None:
        try:
            await anyrun.sleep_forever()
        except cancelled_class():
            cancelled.append(True)
            raise

    with anyrun.CancelScope() as scope:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(child)
            tg.start_soon(child)
            await anyrun.wait_all_tasks_blocked()
            scope.cancel()
    assert cancelled == [True, True]
    assert scope.cancelled_caught


async def test_shield_inside_child_task_protects_it() -> None:
    finished = []

    async def child() -> None:
        with anyrun.CancelScope(shield=True):
            await anyrun.sleep(0.01)
            finished.append(True)

    with anyrun.CancelScope() as scope:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(child)
            await anyrun.wait_all_tasks_blocked()
            scope.cancel()
    assert finished == [True]


async def test_scope_splits_its_cancellation_out_of_exception_groups() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ExceptionGroup) as info, anyrun.CancelScope() as scope:  # noqa: PT012
        scope.cancel()
        try:
            await checkpoint()
        except cancelled_class() as exc:
            raise BaseExceptionGroup("mixed", [exc, ValueError("boom")]) from None
    assert scope.cancelled_caught
    assert [type(e) for e in info.value.exceptions] == [ValueError]


# -- Deadlines ----------------------------------------------------------------------


async def test_move_on_after_expires() -> None:
    start = anyrun.current_time()
    with anyrun.move_on_after(0.02) as scope:
        assert scope.deadline == pytest.approx(start + 0.02, abs=0.01)
        await anyrun.sleep_forever()
    assert scope.cancelled_caught
    assert scope.cancel_called
    assert anyrun.current_time() - start >= 0.02 - 0.002  # uvloop counts whole ms


async def test_move_on_after_not_expired() -> None:
    with anyrun.move_on_after(100) as scope:
        await checkpoint()
    assert not scope.cancel_called
    assert not scope.cancelled_caught


@pytest.mark.parametrize("delay", [0, -1, -math.inf])
async def test_move_on_after_past_cancels_at_once(delay: float) -> None:
    with anyrun.move_on_after(delay) as scope:
        await checkpoint()
        pytest.fail("not cancelled")
    assert scope.cancelled_caught


async def test_move_on_after_none_has_no_deadline() -> None:
    with anyrun.move_on_after(None) as scope:
        assert scope.deadline == math.inf
    with anyrun.move_on_at(None) as scope:
        assert scope.deadline == math.inf
    with anyrun.CancelScope() as scope:
        assert scope.deadline == math.inf


async def test_move_on_at() -> None:
    deadline = anyrun.current_time() + 0.01
    with anyrun.move_on_at(deadline) as scope:
        assert scope.deadline == deadline
        await anyrun.sleep_forever()
    assert scope.cancelled_caught


async def test_deadline_moved_later_and_earlier() -> None:
    with anyrun.move_on_after(0.01) as scope:
        scope.deadline = anyrun.current_time() + 100
        await anyrun.sleep(0.03)  # outlives the first deadline
        scope.deadline = anyrun.current_time() + 0.01
        await anyrun.sleep_forever()
    assert scope.cancelled_caught


async def test_deadline_set_in_the_past_cancels() -> None:
    with anyrun.CancelScope() as scope:
        scope.deadline = anyrun.current_time() - 1
        await anyrun.sleep_forever()
    assert scope.cancelled_caught


async def test_deadline_before_entering() -> None:
    scope = anyrun.CancelScope(deadline=anyrun.current_time() + 0.01)
    await anyrun.sleep(0.02)  # the deadline passes before the block starts
    with scope:
        await checkpoint()
        pytest.fail("not cancelled")
    assert scope.cancelled_caught


async def test_fail_after_raises_timeout_error() -> None:
    with pytest.raises(TimeoutError) as info, anyrun.fail_after(0.01) as scope:
        await anyrun.sleep_forever()
    assert scope.cancelled_caught
    assert isinstance(info.value.__cause__, cancelled_class())


async def test_fail_after_reason() -> None:
    with (
        pytest.raises(TimeoutError, match="too long"),
        anyrun.fail_after(0, reason="too long"),
    ):
        await checkpoint()


async def test_fail_at_raises_timeout_error() -> None:
    with pytest.raises(TimeoutError), anyrun.fail_at(anyrun.current_time() - 1):
        await checkpoint()


async def test_fail_after_without_timeout() -> None:
    with anyrun.fail_after(100) as scope:
        await checkpoint()
    assert not scope.cancel_called
    with anyrun.fail_after(None) as scope:
        assert scope.deadline == math.inf


async def test_fail_after_cancelled_by_hand_is_no_timeout() -> None:
    with anyrun.fail_after(100) as scope:
        scope.cancel()
        await checkpoint()
    assert scope.cancelled_caught


async def test_fail_after_lets_outer_cancellation_through() -> None:
    with anyrun.CancelScope() as outer, anyrun.fail_after(0):
        outer.cancel()
        await checkpoint()
    assert outer.cancelled_caught


def nan_makers() -> list[Any]:
    nan = math.nan
    return [
        pytest.param(lambda: anyrun.CancelScope(deadline=nan), id="CancelScope"),
        pytest.param(lambda: anyrun.move_on_after(nan), id="move_on_after"),
        pytest.param(lambda: anyrun.move_on_at(nan), id="move_on_at"),
        pytest.param(lambda: anyrun.fail_after(nan), id="fail_after"),
        pytest.param(lambda: anyrun.fail_at(nan), id="fail_at"),
    ]


@pytest.mark.parametrize("make", nan_makers())
async def test_nan_deadline_is_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="deadline must not be NaN"):
        make()


async def test_nan_deadline_setter_is_rejected() -> None:
    scope = anyrun.CancelScope()
    with pytest.raises(ValueError, match="deadline must not be NaN"):
        scope.deadline = math.nan
    assert scope.deadline == math.inf


async def test_current_effective_deadline() -> None:
    assert anyrun.current_effective_deadline() == math.inf
    now = anyrun.current_time()
    with anyrun.move_on_at(now + 100):
        assert anyrun.current_effective_deadline() == now + 100
        with anyrun.move_on_at(now + 200):
            assert anyrun.current_effective_deadline() == now + 100
            with anyrun.move_on_at(now + 50):
                assert anyrun.current_effective_deadline() == now + 50
            with anyrun.move_on_at(now + 300, shield=True):
                assert anyrun.current_effective_deadline() == now + 300
    with anyrun.CancelScope() as scope:
        scope.cancel()
        assert anyrun.current_effective_deadline() == -math.inf
        with anyrun.CancelScope(shield=True):
            assert anyrun.current_effective_deadline() == math.inf


# -- Misuse -------------------------------------------------------------------------


async def test_scope_cannot_be_reused() -> None:
    scope = anyrun.CancelScope()
    with scope:
        pass
    with pytest.raises(RuntimeError, match="single 'with' block"), scope:
        pass


async def test_scope_cannot_be_entered_twice() -> None:
    with (
        anyrun.CancelScope() as scope,
        pytest.raises(RuntimeError, match="'with' block"),
    ):
        scope.__enter__()


async def test_exit_in_another_task() -> None:
    scope = anyrun.CancelScope()
    errors: list[BaseException] = []

    async def exit_here() -> None:
        try:
            scope.__exit__(None, None, None)
        except RuntimeError as exc:
            errors.append(exc)

    async with anyrun.create_task_group() as tg:
        with scope:
            tg.start_soon(exit_here)  # a task outside the scope
            await anyrun.wait_all_tasks_blocked()
    assert len(errors) == 1
    assert str(errors[0]).startswith("Cancel scope stack corrupted: attempted to exit")


async def test_exit_out_of_order() -> None:
    outer = anyrun.CancelScope()
    inner = anyrun.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="Cancel scope stack corrupted"):
        outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)  # abandoned: leaves quietly
    with pytest.raises(RuntimeError, match="already been exited"):
        outer.__exit__(None, None, None)
    # The task's scopes are consistent again.
    with anyrun.CancelScope() as scope:
        scope.cancel()
        await checkpoint()
    assert scope.cancelled_caught


def test_scope_needs_an_event_loop() -> None:
    with pytest.raises(anyrun.NoEventLoopError):
        anyrun.CancelScope()
    with pytest.raises(anyrun.NoEventLoopError):
        anyrun.move_on_after(1)


async def test_repr() -> None:
    scope = anyrun.CancelScope()
    assert "unbound" in repr(scope)
    with scope:
        assert "active" in repr(scope)
        scope.cancel()
        assert "cancelled" in repr(scope)
    assert "exited" in repr(scope)
    assert repr(scope).startswith("<anyrun.CancelScope at 0x")


async def test_public_class() -> None:
    scope = anyrun.CancelScope()
    assert isinstance(scope, anyrun.CancelScope)
    assert isinstance(anyrun.move_on_after(1), anyrun.CancelScope)
    assert anyrun.CancelScope.__module__ == "anyrun"


# -- Low-level checkpoints in cancelled scopes --------------------------------------


async def test_cancel_shielded_checkpoint_keeps_cancellation_pending() -> None:
    with anyrun.CancelScope() as scope:
        scope.cancel()
        await cancel_shielded_checkpoint()
        await cancel_shielded_checkpoint()
        await checkpoint()
        pytest.fail("not cancelled")
    assert scope.cancelled_caught


async def test_checkpoint_if_cancelled_in_shield() -> None:
    with anyrun.CancelScope() as outer:
        outer.cancel()
        with anyrun.CancelScope(shield=True):
            await anyrun.lowlevel.checkpoint_if_cancelled()
        await anyrun.lowlevel.checkpoint_if_cancelled()
        pytest.fail("not cancelled")
    assert outer.cancelled_caught


# -- asyncio: native cancellation -------------------------------------------------


@on_asyncio_only
async def test_native_cancel_passes_through_shield_and_cancelled_scope() -> None:
    async def victim(scopes: list[anyrun.CancelScope]) -> None:
        with anyrun.CancelScope() as cancelled:
            cancelled.cancel()
            with anyrun.CancelScope(shield=True) as shielded:
                scopes += [cancelled, shielded]
                await asyncio.sleep(10)

    scopes: list[anyrun.CancelScope] = []
    task = asyncio.get_running_loop().create_task(victim(scopes))
    await anyrun.wait_all_tasks_blocked()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not any(scope.cancelled_caught for scope in scopes)


@on_asyncio_only
async def test_native_cancel_in_same_iteration_is_not_swallowed() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("needs Task.cancelling() to tell the two apart")

    async def victim(scope: anyrun.CancelScope) -> None:
        with scope:
            await asyncio.sleep(10)

    scope = anyrun.CancelScope()
    task = asyncio.get_running_loop().create_task(victim(scope))
    await anyrun.wait_all_tasks_blocked()
    scope.cancel()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not scope.cancelled_caught


@on_asyncio_only
async def test_cancel_counts_are_restored() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("Task.cancelling() is new in Python 3.11")
    task = asyncio.current_task()
    assert task is not None
    before = task.cancelling()
    with anyrun.CancelScope() as scope:
        scope.cancel()
        for _ in range(3):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(1)
        assert task.cancelling() > before
    assert task.cancelling() == before


@on_asyncio_only
async def test_asyncio_timeout_inside_cancelled_scope() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout() is new in Python 3.11")
    with anyrun.CancelScope() as scope:
        # The scope's cancellation is not taken for the timeout's own.
        async with asyncio.timeout(10):
            scope.cancel()
            await asyncio.sleep(1)
    assert scope.cancelled_caught
    # And a timeout that expires inside an uncancelled scope still is one.
    with pytest.raises(TimeoutError), anyrun.CancelScope() as scope:
        async with asyncio.timeout(0.001):
            await asyncio.sleep(1)
    assert not scope.cancelled_caught


@on_asyncio_only
async def test_scope_inside_asyncio_timeout() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout() is new in Python 3.11")
    with pytest.raises(TimeoutError):  # noqa: PT012
        async with asyncio.timeout(0.001):
            with anyrun.CancelScope() as scope:
                await anyrun.sleep(1)
    assert not scope.cancelled_caught
    async with asyncio.timeout(10) as timeout:
        with anyrun.CancelScope() as scope:
            scope.cancel()
            await anyrun.sleep(1)
    assert scope.cancelled_caught
    assert not timeout.expired()


@on_asyncio_only
async def test_asyncio_task_group_inside_cancelled_scope() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.TaskGroup is new in Python 3.11")
    cancelled = []

    async def child() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with anyrun.CancelScope() as scope:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(child())
            await anyrun.wait_all_tasks_blocked()
            scope.cancel()
            await asyncio.sleep(10)
    assert scope.cancelled_caught
    assert cancelled == [True]


@on_asyncio_only
async def test_result_ready_when_cancelled_is_not_lost() -> None:
    # A future that completed in the same iteration as the cancellation: the task
    # gets its value, and the cancellation at its next checkpoint (as AnyIO does).
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()
    got = []

    async def waiter(scope: anyrun.CancelScope) -> None:
        with scope:
            got.append(await future)
            await asyncio.sleep(10)

    scope = anyrun.CancelScope()
    task = loop.create_task(waiter(scope))
    await anyrun.wait_all_tasks_blocked()
    future.set_result(42)
    scope.cancel()
    await task
    assert got == [42]
    assert scope.cancelled_caught
