from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import math
import sys
import types
import weakref
from collections.abc import AsyncGenerator
from typing import Any

import pytest

import anyrun
import anyrun.abc
from anyrun.abc import TaskStatus
from anyrun.lowlevel import checkpoint
from backend_helpers import on_asyncio_only

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytestmark = pytest.mark.anyrun


def cancelled_class() -> type[BaseException]:
    return anyrun.get_cancelled_exc_class()


async def append_after_checkpoint(log: list[Any], value: Any) -> None:
    await checkpoint()
    log.append(value)


async def fail(message: str) -> None:
    await checkpoint()
    raise ValueError(message)


async def wait_cancelled(log: list[str], name: str) -> None:
    try:
        await anyrun.sleep_forever()
    except cancelled_class():
        log.append(f"{name} cancelled")
        raise


# -- Running tasks -----------------------------------------------------------------


async def test_waits_for_all_tasks() -> None:
    log: list[Any] = []
    async with anyrun.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(append_after_checkpoint, log, i)
        assert log == []
    assert sorted(log) == [0, 1, 2, 3, 4]


async def test_tasks_can_start_tasks() -> None:
    log: list[Any] = []

    async def spawner(tg: anyrun.abc.TaskGroup, n: int) -> None:
        log.append(n)
        if n:
            tg.start_soon(spawner, tg, n - 1)

    async with anyrun.create_task_group() as tg:
        tg.start_soon(spawner, tg, 3)
    assert log == [3, 2, 1, 0]


async def test_task_group_exit_returns_after_children() -> None:
    async with anyrun.create_task_group() as tg:
        tg.start_soon(anyrun.sleep, 0.01)
    assert not [
        task for task in anyrun.get_running_tasks() if task.name == "anyrun.sleep"
    ]


async def test_empty_task_group() -> None:
    async with anyrun.create_task_group() as tg:
        pass
    assert not tg.cancel_scope.cancel_called


# -- Failures -----------------------------------------------------------------------


async def test_failing_child_cancels_siblings_and_host() -> None:
    log: list[str] = []
    with pytest.raises(ExceptionGroup) as info:  # noqa: PT012
        async with anyrun.create_task_group() as tg:
            tg.start_soon(wait_cancelled, log, "sibling")
            tg.start_soon(fail, "boom")
            await wait_cancelled(log, "host")
    assert sorted(log) == ["host cancelled", "sibling cancelled"]
    assert [str(e) for e in info.value.exceptions] == ["boom"]
    assert tg.cancel_scope.cancel_called
    assert tg.cancel_scope.cancelled_caught


async def fail_now(message: str) -> None:
    raise ValueError(message)


async def test_several_failures_are_grouped() -> None:
    with pytest.raises(ExceptionGroup) as info:  # noqa: PT012
        async with anyrun.create_task_group() as tg:
            tg.start_soon(fail_now, "one")
            tg.start_soon(fail_now, "two")
    assert sorted(str(e) for e in info.value.exceptions) == ["one", "two"]


async def test_host_failure_cancels_children() -> None:
    log: list[str] = []
    with pytest.raises(ExceptionGroup) as info:  # noqa: PT012
        async with anyrun.create_task_group() as tg:
            tg.start_soon(wait_cancelled, log, "child")
            await anyrun.wait_all_tasks_blocked()
            raise KeyError("host")
    assert log == ["child cancelled"]
    assert [type(e) for e in info.value.exceptions] == [KeyError]


async def test_failure_in_cleanup_after_cancellation() -> None:
    async def cleanup_fails() -> None:
        try:
            await anyrun.sleep_forever()
        finally:
            raise ValueError("cleanup")

    with pytest.raises(ExceptionGroup) as outer_info:  # noqa: PT012, SIM117
        with anyrun.CancelScope() as scope:
            with pytest.raises(BaseExceptionGroup) as info:  # noqa: PT012
                async with anyrun.create_task_group() as tg:
                    tg.start_soon(cleanup_fails)
                    await anyrun.wait_all_tasks_blocked()
                    scope.cancel()
                    await anyrun.sleep_forever()
            # The host's cancellation travels in the group, to the scope that
            # catches it.
            assert info.value.subgroup(ValueError) is not None
            assert info.value.subgroup(cancelled_class()) is not None
            raise info.value
    # The scope kept the rest.
    assert scope.cancelled_caught
    assert [type(e) for e in outer_info.value.exceptions] == [ValueError]


async def test_nested_task_group_errors_nest() -> None:
    async def inner_group() -> None:
        async with anyrun.create_task_group() as inner:
            inner.start_soon(fail, "deep")

    with pytest.raises(ExceptionGroup) as info:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(inner_group)
    (inner,) = info.value.exceptions
    assert isinstance(inner, ExceptionGroup)
    assert [str(e) for e in inner.exceptions] == ["deep"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
async def test_base_errors_of_the_block_propagate_bare(error: type) -> None:
    log: list[str] = []
    with pytest.raises(error):  # noqa: PT012
        async with anyrun.create_task_group() as tg:
            tg.start_soon(wait_cancelled, log, "child")
            await anyrun.wait_all_tasks_blocked()
            raise error
    assert log == ["child cancelled"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_system_exit_in_child_propagates_bare(backend: str) -> None:
    async def main() -> None:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(anyrun.sleep_forever)
            tg.start_soon(exit_now)

    async def exit_now() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        anyrun.run(main, backend=backend)
    assert info.value.code == 3


# -- Cancellation -------------------------------------------------------------------


async def test_cancel_scope_cancels_everything_quietly() -> None:
    log: list[str] = []
    async with anyrun.create_task_group() as tg:
        tg.start_soon(wait_cancelled, log, "a")
        tg.start_soon(wait_cancelled, log, "b")
        await anyrun.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
        await wait_cancelled(log, "host")
    assert sorted(log) == ["a cancelled", "b cancelled", "host cancelled"]
    assert tg.cancel_scope.cancelled_caught


async def test_only_cancellations_raise_the_cancellation_itself() -> None:
    log: list[str] = []
    raised: list[BaseException] = []
    with anyrun.CancelScope() as scope:
        try:
            async with anyrun.create_task_group() as tg:
                tg.start_soon(wait_cancelled, log, "child")
                await anyrun.wait_all_tasks_blocked()
                scope.cancel()
        except BaseException as exc:
            raised.append(exc)
            raise
    assert [type(e) for e in raised] == [cancelled_class()]  # not a group of it
    assert log == ["child cancelled"]
    assert scope.cancelled_caught
    assert not tg.cancel_scope.cancelled_caught


async def test_new_task_in_cancelled_group_runs_to_first_checkpoint() -> None:
    log: list[str] = []

    async def child() -> None:
        log.append("started")
        await checkpoint()
        log.append("not reached")

    async with anyrun.create_task_group() as tg:
        tg.cancel_scope.cancel()
        tg.start_soon(child)
    assert log == ["started"]


async def test_shielded_group_is_not_cancelled_from_outside() -> None:
    log: list[str] = []
    with anyrun.CancelScope() as outer:
        async with anyrun.create_task_group() as tg:
            tg.cancel_scope.shield = True
            tg.start_soon(append_after_checkpoint, log, "child ran")
            outer.cancel()
        log.append("group done")
        await checkpoint()
    assert log == ["child ran", "group done"]
    assert outer.cancelled_caught


async def test_task_group_exit_is_not_a_cancel_point() -> None:
    # As in trio: the block ends before its cancellation is seen; the group waits
    # for its children, which catch theirs, and ends normally.
    async def child() -> None:
        try:
            await anyrun.sleep_forever()
        except cancelled_class():
            pass

    with anyrun.CancelScope() as scope:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(child)
            await anyrun.wait_all_tasks_blocked()
            scope.cancel()
        reached = True
        await checkpoint()
    assert reached
    assert scope.cancelled_caught


# -- The task group's own scope -----------------------------------------------------
# On asyncio it is made when first needed (a task started, cancel_scope used); these
# check that it behaves as if it had been there from the start of the block.


async def test_cancelled_from_inside_a_scope_entered_in_the_block() -> None:
    log: list[str] = []
    async with anyrun.create_task_group() as tg:
        with anyrun.CancelScope() as inner:
            tg.cancel_scope.cancel()
            await wait_cancelled(log, "host")
        log.append("not reached")
    assert log == ["host cancelled"]
    assert tg.cancel_scope.cancelled_caught
    assert not inner.cancelled_caught


async def test_outer_group_cancelled_from_an_inner_groups_block() -> None:
    log: list[str] = []
    async with anyrun.create_task_group() as outer:
        async with anyrun.create_task_group() as inner:
            outer.cancel_scope.cancel()
            await wait_cancelled(log, "host")
        log.append("not reached")
    assert log == ["host cancelled"]
    assert outer.cancel_scope.cancelled_caught
    assert not inner.cancel_scope.cancelled_caught


async def test_outer_group_cancels_the_tasks_of_an_inner_group() -> None:
    # The inner group's scope is made first (by start_soon), the outer's after.
    log: list[str] = []
    async with anyrun.create_task_group() as outer:
        with anyrun.CancelScope() as middle:
            async with anyrun.create_task_group() as inner:
                inner.start_soon(wait_cancelled, log, "inner child")
                await anyrun.wait_all_tasks_blocked()
                outer.cancel_scope.cancel()
    assert log == ["inner child cancelled"]
    assert outer.cancel_scope.cancelled_caught
    assert not middle.cancelled_caught
    assert not inner.cancel_scope.cancelled_caught


async def test_start_runs_the_task_in_the_callers_task_groups() -> None:
    log: list[str] = []

    async def child(*, task_status: TaskStatus[None]) -> None:
        await wait_cancelled(log, "starting child")

    async def cancel_soon(group: anyrun.abc.TaskGroup) -> None:
        await anyrun.wait_all_tasks_blocked()
        group.cancel_scope.cancel()  # its scope is made here, after start() began

    async with anyrun.create_task_group() as outer:
        inner = anyrun.create_task_group()
        async with inner:
            outer.start_soon(cancel_soon, inner)
            await outer.start(child)
            log.append("not reached")
    assert log == ["starting child cancelled"]
    assert inner.cancel_scope.cancelled_caught


async def test_started_task_takes_its_task_groups_along() -> None:
    # A group opened by a task before started() moves into the task group with it.
    log: list[str] = []

    async def child(*, task_status: TaskStatus[None]) -> None:
        async with anyrun.create_task_group() as inner:
            task_status.started()
            await checkpoint()
            inner.start_soon(wait_cancelled, log, "grandchild")
            await anyrun.sleep_forever()

    async def cancel_soon(group: anyrun.abc.TaskGroup) -> None:
        await anyrun.wait_all_tasks_blocked()
        group.cancel_scope.cancel()

    with anyrun.move_on_after(3600) as caller_scope:
        async with anyrun.create_task_group() as outer:
            await outer.start(child)
            outer.start_soon(cancel_soon, outer)
        deadline = anyrun.current_effective_deadline()
    assert log == ["grandchild cancelled"]
    assert outer.cancel_scope.cancelled_caught
    assert deadline == caller_scope.deadline


async def test_group_of_a_started_task_cancels_itself() -> None:
    async def child(*, task_status: TaskStatus[None]) -> None:
        async with anyrun.create_task_group() as inner:
            task_status.started()
            await checkpoint()
            inner.cancel_scope.cancel()
            await checkpoint()
            raise AssertionError("not cancelled")
        assert inner.cancel_scope.cancelled_caught

    async with anyrun.create_task_group() as outer:
        await outer.start(child)


async def test_scope_left_before_a_group_inside_it() -> None:
    scope = anyrun.CancelScope()
    scope.__enter__()
    tg = anyrun.create_task_group()
    await tg.__aenter__()
    with pytest.raises(RuntimeError, match="Cancel scope stack corrupted"):
        scope.__exit__(None, None, None)


async def test_async_generator_holding_a_task_group() -> None:
    async def numbers() -> AsyncGenerator[int, None]:
        async with anyrun.create_task_group():
            for i in range(3):
                yield i

    gen = numbers()
    corrupted = pytest.raises(RuntimeError, match="Cancel scope stack corrupted")
    with corrupted, anyrun.move_on_after(3600):
        assert await gen.__anext__() == 0
    with pytest.raises(BaseExceptionGroup):
        await gen.aclose()


async def test_two_tasks_waiting_for_all_tasks_blocked() -> None:
    log: list[str] = []

    async def other() -> None:
        await anyrun.wait_all_tasks_blocked()
        log.append("other")

    async with anyrun.create_task_group() as tg:
        tg.start_soon(other)
        await anyrun.wait_all_tasks_blocked()
        log.append("host")
    assert sorted(log) == ["host", "other"]


@on_asyncio_only
async def test_task_ending_with_a_task_group_open_is_forgotten() -> None:
    # trio raises "Nursery stack corrupted" here; asyncio has no way to tell.
    refs: list[weakref.ref[asyncio.Task[Any]]] = []

    async def leaves_it_open() -> None:
        task = asyncio.current_task()
        assert task is not None
        refs.append(weakref.ref(task))
        await anyrun.create_task_group().__aenter__()

    async with anyrun.create_task_group() as tg:
        tg.start_soon(leaves_it_open)
    gc.collect()
    assert refs[0]() is None


async def test_scope_left_open_in_the_block() -> None:
    scope = anyrun.CancelScope()
    with pytest.raises(RuntimeError, match="Cancel scope stack corrupted"):
        async with anyrun.create_task_group():
            scope.__enter__()
    scope.__exit__(None, None, None)  # abandoned: leaves quietly
    with anyrun.CancelScope() as after:
        after.cancel()
        await checkpoint()
    assert after.cancelled_caught


async def test_cancel_scope_of_a_group_that_has_ended() -> None:
    async with anyrun.create_task_group() as tg:
        pass
    scope = tg.cancel_scope
    assert "exited" in repr(scope)
    assert not scope.cancel_called
    assert not scope.cancelled_caught
    scope.cancel()  # does nothing to anything
    assert scope.cancel_called
    await checkpoint()


@on_asyncio_only
async def test_groups_left_out_of_order() -> None:
    # trio's nurseries fail an assertion here; anyrun's scopes say what happened.
    outer = anyrun.create_task_group()
    inner = anyrun.create_task_group()
    await outer.__aenter__()
    await inner.__aenter__()
    with pytest.raises(RuntimeError, match="Cancel scope stack corrupted"):
        await outer.__aexit__(None, None, None)
    assert not await inner.__aexit__(None, None, None)  # abandoned: leaves quietly
    async with anyrun.create_task_group() as after:
        after.cancel_scope.cancel()
        await checkpoint()
    assert after.cancel_scope.cancelled_caught


async def test_scope_cancelled_before_the_block() -> None:
    tg = anyrun.create_task_group()
    scope = tg.cancel_scope
    assert "unbound" in repr(scope)
    scope.cancel("early")
    async with tg:
        with pytest.raises(cancelled_class(), match="early"):
            await checkpoint()
        await checkpoint()
        raise AssertionError("not cancelled")
    assert tg.cancel_scope is scope
    assert scope.cancelled_caught


async def test_scope_set_up_before_the_block() -> None:
    tg = anyrun.create_task_group()
    tg.cancel_scope.deadline = anyrun.current_time() + 3600
    tg.cancel_scope.shield = True
    with anyrun.CancelScope() as outer:
        async with tg:
            assert anyrun.current_effective_deadline() == tg.cancel_scope.deadline
            outer.cancel()
            await checkpoint()  # shielded
            tg.cancel_scope.deadline = -math.inf
            await checkpoint()
            raise AssertionError("not cancelled")
    assert tg.cancel_scope.cancelled_caught
    assert not outer.cancelled_caught  # nothing reached it: the group caught its own


async def test_scope_entered_before_the_block() -> None:
    tg = anyrun.create_task_group()
    with tg.cancel_scope:
        pass
    with pytest.raises(RuntimeError, match="single 'with' block"):
        await tg.__aenter__()


@on_asyncio_only
async def test_native_cancel_before_the_scope_is_made_is_not_swallowed() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("needs Task.cancelling() to tell the two apart")
    task = asyncio.current_task()
    assert task is not None

    async def block() -> None:
        async with anyrun.create_task_group() as tg:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)  # still counted: nothing called uncancel()
            tg.cancel_scope.cancel()
            await checkpoint()

    with pytest.raises(asyncio.CancelledError):
        await block()
    assert task.uncancel() == 0


# -- start() ------------------------------------------------------------------------


async def server(
    port: int, *, task_status: TaskStatus[int] = anyrun.TASK_STATUS_IGNORED
) -> None:
    await checkpoint()
    task_status.started(port + 1)
    await anyrun.sleep_forever()


async def test_start_returns_the_started_value() -> None:
    async with anyrun.create_task_group() as tg:
        assert await tg.start(server, 1000) == 1001
        tg.cancel_scope.cancel()


async def test_start_with_ignored_status_directly() -> None:
    with anyrun.move_on_after(0):
        await server(1)


async def test_start_default_value_is_none() -> None:
    async def starts(*, task_status: TaskStatus[None]) -> None:
        task_status.started()

    async with anyrun.create_task_group() as tg:
        assert await tg.start(starts) is None


async def test_started_task_belongs_to_the_group() -> None:
    async def starts_then_fails(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        await checkpoint()
        raise ValueError("after started")

    with pytest.raises(ExceptionGroup) as info:  # noqa: PT012
        async with anyrun.create_task_group() as tg:
            await tg.start(starts_then_fails)
            await anyrun.sleep_forever()
    assert [str(e) for e in info.value.exceptions] == ["after started"]


async def test_error_before_started_is_raised_by_start() -> None:
    async def fails_early(*, task_status: TaskStatus[None]) -> None:
        await checkpoint()
        raise ValueError("early")

    async with anyrun.create_task_group() as tg:
        with pytest.raises(ValueError, match="early"):
            await tg.start(fails_early)
    assert not tg.cancel_scope.cancel_called


async def test_exit_without_started() -> None:
    async def never_starts(*, task_status: TaskStatus[None]) -> None:
        await checkpoint()

    async with anyrun.create_task_group() as tg:
        with pytest.raises(
            RuntimeError, match=r"child exited without calling task_status\.started\(\)"
        ):
            await tg.start(never_starts)


async def test_started_twice() -> None:
    errors: list[BaseException] = []

    async def starts_twice(*, task_status: TaskStatus[None]) -> None:
        task_status.started()
        try:
            task_status.started()
        except RuntimeError as exc:
            errors.append(exc)

    async with anyrun.create_task_group() as tg:
        await tg.start(starts_twice)
    assert [str(e) for e in errors] == [
        "called 'started' twice on the same task status"
    ]


async def test_task_runs_in_callers_scope_until_started() -> None:
    log: list[str] = []

    async def slow_start(*, task_status: TaskStatus[None]) -> None:
        await wait_cancelled(log, "starting task")

    async with anyrun.create_task_group() as tg:
        with anyrun.CancelScope() as scope:

            async def cancel_later() -> None:
                await anyrun.wait_all_tasks_blocked()
                scope.cancel()

            tg.start_soon(cancel_later)
            await tg.start(slow_start)
        assert scope.cancelled_caught
        assert not tg.cancel_scope.cancel_called
    assert log == ["starting task cancelled"]


async def test_group_cancellation_does_not_reach_unstarted_task() -> None:
    async def starts_after_group_cancelled(
        tg: anyrun.abc.TaskGroup, *, task_status: TaskStatus[str]
    ) -> None:
        tg.cancel_scope.cancel()
        await checkpoint()  # still in the caller's scope: not cancelled
        task_status.started("ok")
        await checkpoint()  # in the group now: cancelled
        pytest.fail("not cancelled")

    async with anyrun.create_task_group() as tg:
        group = tg
        with anyrun.CancelScope(shield=True):
            assert await tg.start(starts_after_group_cancelled, group) == "ok"


async def test_start_in_inactive_group() -> None:
    async with anyrun.create_task_group() as tg:
        pass
    with pytest.raises(RuntimeError, match="not active"):
        await tg.start(server, 1)


# -- Misuse -------------------------------------------------------------------------


async def coro_function() -> None:
    pass


async def test_start_soon_coroutine_object() -> None:
    async with anyrun.create_task_group() as tg:
        coro = coro_function()
        with pytest.raises(TypeError, match=r"start_soon\(coro_function, \.\.\.\)"):
            tg.start_soon(coro)  # type: ignore[arg-type]
    del coro
    gc.collect()  # a "never awaited" warning would fail the test here


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (lambda: None, "regular function"),
        (42, "not callable"),
        (lambda: asyncio.sleep(0) if False else iter(()), "regular function"),
    ],
)
async def test_start_soon_non_async(func: Any, message: str) -> None:
    async with anyrun.create_task_group() as tg:
        with pytest.raises(TypeError, match=message):
            tg.start_soon(func)


async def test_start_coroutine_object() -> None:
    async with anyrun.create_task_group() as tg:
        with pytest.raises(TypeError, match="expected an async function"):
            await tg.start(server(1))  # type: ignore[arg-type]
    gc.collect()


async def test_start_soon_in_inactive_group() -> None:
    async with anyrun.create_task_group() as tg:
        pass
    with pytest.raises(RuntimeError, match="not active"):
        tg.start_soon(coro_function)


async def test_enter_twice() -> None:
    tg = anyrun.create_task_group()
    async with tg:
        pass
    with pytest.raises(RuntimeError, match="cannot be entered more than once"):
        async with tg:
            pass


def test_needs_an_event_loop() -> None:
    with pytest.raises(anyrun.NoEventLoopError):
        anyrun.create_task_group()


# -- Names and introspection ----------------------------------------------------------


async def test_task_names() -> None:
    names = {}

    async def record(key: str) -> None:
        names[key] = anyrun.get_current_task().name

    async with anyrun.create_task_group() as tg:
        tg.start_soon(record, "default")
        tg.start_soon(record, "given", name="my task")
        tg.start_soon(functools.partial(record, "partial"))
    assert names == {
        "default": f"{__name__}.test_task_names.<locals>.record",
        "given": "my task",
        "partial": f"{__name__}.test_task_names.<locals>.record",
    }


async def test_get_current_task_and_parents() -> None:
    host = anyrun.get_current_task()
    infos: list[anyrun.TaskInfo] = []

    async def child(
        *, task_status: TaskStatus[None] = anyrun.TASK_STATUS_IGNORED
    ) -> None:
        infos.append(anyrun.get_current_task())
        task_status.started()

    async with anyrun.create_task_group() as tg:
        tg.start_soon(child)
        await tg.start(child)
    for info in infos:
        assert info.parent_id == host.id
        assert info.id != host.id
        assert isinstance(info.coro, types.CoroutineType)
    assert anyrun.get_current_task() == host
    assert hash(anyrun.get_current_task()) == hash(host)
    assert repr(host) == f"TaskInfo(id={host.id!r}, name={host.name!r})"


async def test_get_running_tasks() -> None:
    async with anyrun.create_task_group() as tg:
        tg.start_soon(anyrun.sleep_forever, name="sleeper")
        await anyrun.wait_all_tasks_blocked()
        running = anyrun.get_running_tasks()
        assert anyrun.get_current_task() in running
        (sleeper,) = [task for task in running if task.name == "sleeper"]
        assert sleeper.parent_id == anyrun.get_current_task().id
        assert not sleeper.has_pending_cancellation()
        tg.cancel_scope.cancel()
        assert sleeper.has_pending_cancellation()
    assert sleeper not in anyrun.get_running_tasks()


async def test_wait_all_tasks_blocked() -> None:
    steps: list[int] = []

    async def stepper() -> None:
        for i in range(20):
            steps.append(i)
            await checkpoint()
        await anyrun.sleep_forever()

    async with anyrun.create_task_group() as tg:
        tg.start_soon(stepper)
        tg.start_soon(stepper)
        await anyrun.wait_all_tasks_blocked()
        assert len(steps) == 40
        tg.cancel_scope.cancel()


def test_abc_module() -> None:
    assert anyrun.abc.__all__ == ("TaskGroup", "TaskStatus")
    for name in anyrun.abc.__all__:
        assert getattr(anyrun.abc, name).__module__ == "anyrun.abc"
    assert repr(anyrun.TASK_STATUS_IGNORED) == "anyrun.TASK_STATUS_IGNORED"
    anyrun.TASK_STATUS_IGNORED.started(1)


async def test_task_group_type() -> None:
    tg = anyrun.create_task_group()
    assert isinstance(tg, anyrun.abc.TaskGroup)
    async with tg as entered:
        assert entered is tg
        assert isinstance(tg.cancel_scope, anyrun.CancelScope)


# -- asyncio: native cancellation --------------------------------------------------


@on_asyncio_only
async def test_native_cancel_of_host_waiting_for_children() -> None:
    log: list[str] = []

    async def host() -> None:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(wait_cancelled, log, "child")

    task = asyncio.get_running_loop().create_task(host())
    await anyrun.wait_all_tasks_blocked()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["child cancelled"]


@on_asyncio_only
async def test_native_cancel_of_start_caller() -> None:
    log: list[str] = []

    async def slow(*, task_status: TaskStatus[None]) -> None:
        await wait_cancelled(log, "starting")

    async def caller(tg: anyrun.abc.TaskGroup) -> None:
        await tg.start(slow)

    async with anyrun.create_task_group() as tg:
        task = asyncio.get_running_loop().create_task(caller(tg))
        await anyrun.wait_all_tasks_blocked()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert log == ["starting cancelled"]


@on_asyncio_only
async def test_asyncio_task_group_inside_and_outside() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.TaskGroup is new in Python 3.11")
    log: list[Any] = []

    async def inner() -> None:
        async with anyrun.create_task_group() as tg:
            tg.start_soon(append_after_checkpoint, log, "anyrun child")

    async with asyncio.TaskGroup() as native:
        native.create_task(inner())
    async with anyrun.create_task_group() as tg:
        tg.start_soon(asyncio.sleep, 0)
        async with asyncio.TaskGroup() as native:
            native.create_task(append_after_checkpoint(log, "native child"))
    assert log == ["anyrun child", "native child"]
