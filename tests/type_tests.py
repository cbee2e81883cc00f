"""Type tests of the public API, not run: mypy and pyright check them (tox -e type)."""

from __future__ import annotations

from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any

from typing_extensions import assert_type

import anyrun
import anyrun.abc
import anyrun.from_thread
import anyrun.lowlevel
import anyrun.to_thread


async def main(x: int) -> str:
    return str(x)


async def serve(*, task_status: anyrun.abc.TaskStatus[int]) -> None:
    task_status.started(1)


def blocking(x: int) -> bytes:
    return bytes(x)


def no_args() -> float:
    return 0.0


def test_run() -> None:
    assert_type(anyrun.run(main, 1), str)
    assert_type(anyrun.run(main, 1, backend="trio"), str)
    anyrun.run(main, "1")  # type: ignore[arg-type]
    anyrun.run(main)  # type: ignore[arg-type]
    assert_type(anyrun.get_all_backends(), tuple[str, ...])
    assert_type(anyrun.runner()(main(1)), str)
    assert_type(anyrun.entrypoint(main)(1), str)
    assert_type(anyrun.entrypoint(backend="trio")(main)(1), str)


async def test_time() -> None:
    assert_type(anyrun.current_time(), float)
    assert_type(anyrun.current_effective_deadline(), float)
    assert_type(anyrun.get_cancelled_exc_class(), type[BaseException])
    assert_type(await anyrun.sleep(1), None)
    assert_type(await anyrun.sleep_until(1.5), None)
    assert_type(await anyrun.lowlevel.checkpoint(), None)
    assert_type(anyrun.get_current_task(), anyrun.TaskInfo)
    assert_type(anyrun.get_running_tasks(), list[anyrun.TaskInfo])


def test_cancel_scopes() -> None:
    with anyrun.CancelScope(deadline=1, shield=True) as scope:
        assert_type(scope, anyrun.CancelScope)
    with anyrun.move_on_after(1) as scope:
        assert_type(scope, anyrun.CancelScope)
    with anyrun.move_on_at(None) as scope:
        assert_type(scope, anyrun.CancelScope)
    with anyrun.fail_after(1) as scope:
        assert_type(scope, anyrun.CancelScope)
    with anyrun.fail_at(1, reason="slow") as scope:
        assert_type(scope, anyrun.CancelScope)
    assert_type(scope.cancel_called, bool)
    assert_type(scope.cancelled_caught, bool)
    assert_type(scope.deadline, float)
    assert_type(scope.shield, bool)
    assert_type(scope.cancel(), None)


async def test_task_groups() -> None:
    async with anyrun.create_task_group() as tg:
        assert_type(tg, anyrun.abc.TaskGroup)
        assert_type(tg.start_soon(main, 1), None)
        tg.start_soon(main, 1, name="main")
        tg.start_soon(main, "1")  # type: ignore[arg-type]
        tg.start_soon(main)  # type: ignore[arg-type]
        assert_type(await tg.start(serve), Any)
        assert_type(tg.cancel_scope, anyrun.CancelScope)
    anyrun.TASK_STATUS_IGNORED.started()
    assert_type(anyrun.TASK_STATUS_IGNORED, anyrun.abc.TaskStatus[Any])


async def test_to_thread() -> None:
    assert_type(await anyrun.to_thread.run_sync(blocking, 1), bytes)
    assert_type(await anyrun.to_thread.run_sync(no_args, abandon_on_cancel=True), float)
    await anyrun.to_thread.run_sync(blocking, "1")  # type: ignore[arg-type]
    limiter = anyrun.to_thread.current_default_thread_limiter()
    assert_type(limiter, anyrun.CapacityLimiter)
    assert_type(anyrun.CapacityLimiter(1), anyrun.CapacityLimiter)
    assert_type(limiter.total_tokens, float)
    assert_type(limiter.borrowed_tokens, int)
    assert_type(limiter.statistics(), anyrun.CapacityLimiterStatistics)
    async with limiter:
        pass


def test_from_thread(token: anyrun.lowlevel.EventLoopToken) -> None:
    assert_type(anyrun.lowlevel.current_token(), anyrun.lowlevel.EventLoopToken)
    assert_type(anyrun.from_thread.run(main, 1), str)
    assert_type(anyrun.from_thread.run(main, 1, token=token), str)
    anyrun.from_thread.run(main, "1")  # type: ignore[arg-type]
    assert_type(anyrun.from_thread.run_sync(no_args), float)
    assert_type(anyrun.from_thread.run_sync(blocking, 1, token=token), bytes)
    assert_type(anyrun.from_thread.check_cancelled(), None)


def test_blocking_portal() -> None:
    with anyrun.from_thread.start_blocking_portal("trio") as portal:
        assert_type(portal, anyrun.from_thread.BlockingPortal)
        assert_type(portal.call(main, 1), str)
        assert_type(portal.call(blocking, 1), bytes)
        assert_type(portal.start_task_soon(main, 1), Future[str])
        assert_type(portal.start_task(serve), tuple[Future[None], Any])
        tg_cm = portal.wrap_async_context_manager(anyrun.create_task_group())
        assert_type(tg_cm, AbstractContextManager[anyrun.abc.TaskGroup])
    with anyrun.from_thread.BlockingPortalProvider() as portal:
        assert_type(portal, anyrun.from_thread.BlockingPortal)
