"""Blocking portals: sync code in other threads running tasks in an event loop."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from concurrent.futures import CancelledError, Future
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sniffio

import anyrun
from anyrun import to_thread
from anyrun.from_thread import (
    BlockingPortal,
    BlockingPortalProvider,
    start_blocking_portal,
)
from thread_helpers import in_plain_thread

pytestmark = pytest.mark.anyrun

BACKENDS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
    pytest.param(("trio", {}), id="trio"),
]


@pytest.fixture(params=BACKENDS)
def portal(request: pytest.FixtureRequest) -> Any:
    name, options = request.param
    with start_blocking_portal(name, options) as portal:
        portal.backend_name = name  # type: ignore[attr-defined]
        yield portal


async def add(a: int, b: int) -> int:
    await anyrun.sleep(0)
    return a + b


def test_call_async_and_sync_functions(portal: Any) -> None:
    assert portal.call(add, 1, 2) == 3
    assert portal.call(sniffio.current_async_library) == portal.backend_name
    assert portal.call(threading.get_ident) != threading.get_ident()


def test_call_raises_the_exception_itself(portal: Any) -> None:
    error = LookupError("inside")

    async def fail() -> None:
        raise error

    with pytest.raises(LookupError) as info:
        portal.call(fail)
    assert info.value is error


def test_start_task_soon_returns_a_future(portal: Any) -> None:
    future = portal.start_task_soon(add, 2, 3, name="adder")
    assert isinstance(future, Future)
    assert future.result(10) == 5


def test_cancelling_the_future_cancels_the_task(portal: Any) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def wait_forever() -> None:
        started.set()
        try:
            await anyrun.sleep_forever()
        except anyrun.get_cancelled_exc_class():
            cancelled.set()
            raise

    future = portal.start_task_soon(wait_forever)
    assert started.wait(10)
    assert future.cancel()
    assert cancelled.wait(10)
    with pytest.raises(CancelledError):
        future.result(10)
    assert portal.call(add, 1, 1) == 2  # the portal goes on


def test_start_task_waits_for_started(portal: Any) -> None:
    async def serve(first: int, *, task_status: Any) -> str:
        task_status.started(first + 1)
        await anyrun.sleep(0)
        return "served"

    future, value = portal.start_task(serve, 41)
    assert value == 42
    assert future.result(10) == "served"


def test_start_task_failures(portal: Any) -> None:
    async def fail_early(*, task_status: Any) -> None:
        raise ValueError("before started")

    async def never_start(*, task_status: Any) -> None:
        pass

    with pytest.raises(ValueError, match="before started"):
        portal.start_task(fail_early)
    with pytest.raises(RuntimeError, match=r"without calling task_status\.started"):
        portal.start_task(never_start)


def test_wrap_async_context_manager(portal: Any) -> None:
    events: list[object] = []

    @asynccontextmanager
    async def resource() -> AsyncIterator[str]:
        events.append(("enter", sniffio.current_async_library()))
        try:
            yield "the resource"
        except Exception as exc:
            events.append(("error", type(exc).__name__))
            raise
        finally:
            events.append("exit")

    with portal.wrap_async_context_manager(resource()) as value:
        assert value == "the resource"
    with pytest.raises(KeyError), portal.wrap_async_context_manager(resource()):
        raise KeyError("in the block")
    name = portal.backend_name
    assert events == [
        ("enter", name),
        "exit",
        ("enter", name),
        ("error", "KeyError"),
        "exit",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_leaving_the_block_waits_for_the_tasks(
    backend: tuple[str, dict[str, Any]],
) -> None:
    name, options = backend
    before = set(threading.enumerate())

    async def slow() -> str:
        await anyrun.sleep(0.05)
        return "done"

    with start_blocking_portal(name, options) as portal:
        future = portal.start_task_soon(slow)
    assert future.done()
    assert future.result() == "done"
    assert set(threading.enumerate()) - before == set()  # the loop's thread has ended
    with pytest.raises(RuntimeError, match="not running"):
        portal.call(add, 1, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_error_in_the_block_cancels_the_tasks(
    backend: tuple[str, dict[str, Any]],
) -> None:
    name, options = backend
    futures = []

    def use_then_fail() -> None:
        with start_blocking_portal(name, options) as portal:
            futures.append(portal.start_task_soon(anyrun.sleep_forever))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        use_then_fail()
    [future] = futures
    assert future.cancelled()


def test_a_crashed_loop_is_reported_when_the_block_ends() -> None:
    async def crash() -> None:
        raise SystemExit(3)

    def crash_the_loop() -> None:
        with start_blocking_portal() as portal, pytest.raises(SystemExit):
            portal.call(crash)

    with pytest.raises(SystemExit):
        crash_the_loop()


def test_an_unknown_backend() -> None:
    with pytest.raises(LookupError, match="No such backend"):  # noqa: SIM117
        with start_blocking_portal("curio"):
            pass


async def test_a_portal_in_async_code(anyrun_backend_name: str) -> None:
    async with BlockingPortal() as portal:
        with pytest.raises(RuntimeError, match="event loop thread"):
            portal.call(add, 1, 2)

        def sync_code() -> tuple[int, str]:
            return portal.call(add, 20, 22), portal.call(sniffio.current_async_library)

        assert await in_plain_thread(anyrun_backend_name, sync_code) == (
            42,
            anyrun_backend_name,
        )
        assert await to_thread.run_sync(sync_code) == (42, anyrun_backend_name)


async def test_stop_with_cancel_remaining(anyrun_backend_name: str) -> None:
    started = threading.Event()
    async with BlockingPortal() as portal:

        async def wait_forever() -> None:
            started.set()
            await anyrun.sleep_forever()

        future = await in_plain_thread(
            anyrun_backend_name, lambda: portal.start_task_soon(wait_forever)
        )
        assert await to_thread.run_sync(started.wait, 10)
        await portal.stop(cancel_remaining=True)
        await portal.sleep_until_stopped()  # returns at once now
    assert future.cancelled()


def test_a_provider_shares_one_portal() -> None:
    provider = BlockingPortalProvider()
    portals: list[BlockingPortal] = []
    barrier = threading.Barrier(4, timeout=10)

    def user() -> None:
        with provider as portal:
            portals.append(portal)
            barrier.wait()  # all four inside at once
            assert portal.call(add, 1, 2) == 3

    threads = [threading.Thread(target=user) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(portals) == 4
    assert all(portal is portals[0] for portal in portals)
    with pytest.raises(RuntimeError, match="not running"):
        portals[0].call(add, 1, 2)  # the last user stopped it
    with provider as portal:  # and the next one starts another
        assert portal is not portals[0]
        assert portal.call(add, 2, 2) == 4
    assert "asyncio" in repr(provider)
