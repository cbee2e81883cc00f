"""anyrun.to_thread: worker threads, their pool, limits and cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
import sniffio
import trio

import anyrun
import anyrun._core._workers
from anyrun import to_thread
from thread_helpers import Cancellable, cancelled_class, gather, in_plain_thread

pytestmark = pytest.mark.anyrun

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


# -- Results, exceptions, context ----------------------------------------------------


async def test_returns_the_result() -> None:
    assert await to_thread.run_sync(pow, 2, 10) == 1024


async def test_raises_the_exception_itself() -> None:
    error = ValueError("boom")

    def fail() -> None:
        raise error

    with pytest.raises(ValueError, match="boom") as info:
        await to_thread.run_sync(fail)
    assert info.value is error


async def test_runs_in_another_thread() -> None:
    assert await to_thread.run_sync(threading.get_ident) != threading.get_ident()


async def test_context_is_copied_into_the_thread() -> None:
    var.set("caller")

    def read_and_set() -> str:
        seen = var.get()
        var.set("thread")
        return seen

    assert await to_thread.run_sync(read_and_set) == "caller"
    assert var.get() == "caller"


async def test_the_thread_is_sync_code() -> None:
    def probe() -> list[str]:
        seen = []
        try:
            sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            seen.append("sniffio raises")
        try:
            anyrun.current_time()
        except anyrun.NoEventLoopError:
            seen.append("anyrun raises")
        return seen

    assert await to_thread.run_sync(probe) == ["sniffio raises", "anyrun raises"]
    sniffio.current_async_library()  # and the caller is untouched


async def test_sniffio_context_variable_does_not_leak_into_the_thread() -> None:
    token = sniffio.current_async_library_cvar.set("asyncio")
    try:
        assert await to_thread.run_sync(sniffio.current_async_library_cvar.get) is None
    finally:
        sniffio.current_async_library_cvar.reset(token)


async def test_rejects_what_it_cannot_run() -> None:
    async def coroutine_function() -> None:
        pass

    with pytest.raises(TypeError, match="expected a regular function"):
        await to_thread.run_sync(coroutine_function)
    with pytest.raises(TypeError, match="expected a function, not 42"):
        await to_thread.run_sync(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"limiter must be an anyrun\.CapacityLimiter"):
        await to_thread.run_sync(int, limiter=object())  # type: ignore[arg-type]


def test_outside_an_event_loop() -> None:
    coro = to_thread.run_sync(int)
    with pytest.raises(anyrun.NoEventLoopError):
        coro.send(None)
    with pytest.raises(anyrun.NoEventLoopError):
        to_thread.current_default_thread_limiter()


# -- The pool ------------------------------------------------------------------------


async def test_workers_are_reused() -> None:
    idents = {await to_thread.run_sync(threading.get_ident) for _ in range(20)}
    assert len(idents) == 1


async def test_concurrent_calls_run_in_concurrent_threads(
    anyrun_backend_name: str,
) -> None:
    barrier = threading.Barrier(8, timeout=10)  # passes only with 8 threads at once
    idents = await gather(
        anyrun_backend_name,
        *[lambda: to_thread.run_sync(lambda: (barrier.wait(), threading.get_ident()))]
        * 8,
    )
    assert len({ident for _, ident in idents}) == 8


async def test_idle_workers_exit_on_a_timer(
    monkeypatch: pytest.MonkeyPatch, anyrun_backend_name: str
) -> None:
    monkeypatch.setattr(anyrun._core._workers, "IDLE_TIMEOUT", 0.05)
    worker = await to_thread.run_sync(threading.current_thread)
    # The worker exits while the loop keeps running, with no call to notice it.
    await in_plain_thread(anyrun_backend_name, lambda: worker.join(10))
    assert not worker.is_alive()
    assert await to_thread.run_sync(threading.current_thread) is not worker


async def test_base_exceptions_do_not_kill_the_pool() -> None:
    worker = await to_thread.run_sync(threading.current_thread)
    for exc_class in (KeyboardInterrupt, SystemExit, GeneratorExit):

        def throw(exc_class: type[BaseException] = exc_class) -> None:
            raise exc_class

        with pytest.raises(exc_class):
            await to_thread.run_sync(throw)
        assert await to_thread.run_sync(threading.current_thread) is worker


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
        pytest.param(("trio", {}), id="trio"),
    ],
)
def test_no_thread_outlives_the_run(backend: tuple[str, dict[str, Any]]) -> None:
    name, options = backend
    before = set(threading.enumerate())

    async def main() -> None:
        barrier = threading.Barrier(10, timeout=10)
        await gather(name, *[lambda: to_thread.run_sync(barrier.wait)] * 10)
        token = anyrun.lowlevel.current_token()
        thread = threading.Thread(
            target=anyrun.from_thread.run_sync, args=(int,), kwargs={"token": token}
        )
        await to_thread.run_sync(lambda: (thread.start(), thread.join()))

    anyrun.run(main, backend=name, backend_options=options)
    assert set(threading.enumerate()) - before == set()  # none of ours is left


def test_no_thread_outlives_native_runners() -> None:
    before = set(threading.enumerate())

    async def main() -> None:
        for _ in range(3):
            await to_thread.run_sync(int)

    asyncio.run(main())
    assert set(threading.enumerate()) - before == set()  # none of ours is left
    trio.run(main)
    assert set(threading.enumerate()) - before == set()  # none of ours is left


# -- Limits --------------------------------------------------------------------------


async def test_default_thread_limiter() -> None:
    limiter = to_thread.current_default_thread_limiter()
    assert isinstance(limiter, anyrun.CapacityLimiter)
    assert limiter.total_tokens == 40
    assert to_thread.current_default_thread_limiter() is limiter
    # The thread holds one of its tokens while it runs.
    assert limiter.borrowed_tokens == 0
    assert await to_thread.run_sync(lambda: limiter.borrowed_tokens) == 1
    assert limiter.borrowed_tokens == 0


async def test_a_limiter_limits_the_threads_running_at_once(
    anyrun_backend_name: str,
) -> None:
    limiter = anyrun.CapacityLimiter(2)
    lock = threading.Lock()
    running = [0, 0]  # now, at most
    two_in = threading.Event()
    go = threading.Event()

    def work() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
            if running[0] == 2:
                two_in.set()
        assert go.wait(10)
        with lock:
            running[0] -= 1

    async def check_then_go() -> None:
        assert await to_thread.run_sync(two_in.wait, 10)
        for _ in range(10):  # let the other callers reach the limiter
            await anyrun.lowlevel.checkpoint()
        assert limiter.borrowed_tokens == 2
        assert limiter.statistics().tasks_waiting == 3
        go.set()

    await gather(
        anyrun_backend_name,
        *[lambda: to_thread.run_sync(work, limiter=limiter)] * 5,
        check_then_go,
    )
    assert running == [0, 2]
    assert limiter.borrowed_tokens == 0


# -- Cancellation --------------------------------------------------------------------


async def test_cancellation_waits_for_the_thread(anyrun_backend_name: str) -> None:
    started, release, finished = (threading.Event() for _ in range(3))
    checks: list[str] = []

    def work() -> str:
        started.set()
        assert release.wait(10)
        try:
            anyrun.from_thread.check_cancelled()
        except cancelled_class(anyrun_backend_name):
            checks.append("cancelled")
        finished.set()
        return "dropped"

    async with Cancellable(
        anyrun_backend_name, lambda: to_thread.run_sync(work)
    ) as call:
        assert await to_thread.run_sync(started.wait, 10)
        call.cancel()
        for _ in range(10):
            await anyrun.lowlevel.checkpoint()
        assert not call.done.is_set()  # still waiting for the thread
        release.set()
    assert finished.is_set()
    assert checks == ["cancelled"]
    [(kind, exc)] = call.outcome
    assert kind == "raised"
    assert isinstance(exc, cancelled_class(anyrun_backend_name))


async def test_abandon_on_cancel_returns_at_once(anyrun_backend_name: str) -> None:
    started, release, finished = (threading.Event() for _ in range(3))
    limiter = anyrun.CapacityLimiter(1)

    def work() -> str:
        started.set()
        assert release.wait(10)
        finished.set()
        return "dropped"

    async with Cancellable(
        anyrun_backend_name,
        lambda: to_thread.run_sync(work, abandon_on_cancel=True, limiter=limiter),
    ) as call:
        assert await to_thread.run_sync(started.wait, 10)
        call.cancel()
    [(kind, exc)] = call.outcome
    assert kind == "raised"
    assert isinstance(exc, cancelled_class(anyrun_backend_name))
    assert not finished.is_set()
    # The abandoned thread keeps its token until it returns.
    assert limiter.borrowed_tokens == 1
    release.set()
    assert await to_thread.run_sync(finished.wait, 10)
    for _ in range(1000):
        if not limiter.borrowed_tokens:
            break
        await anyrun.lowlevel.checkpoint()
    assert limiter.borrowed_tokens == 0


async def test_check_cancelled_is_quiet_until_cancelled() -> None:
    assert await to_thread.run_sync(anyrun.from_thread.check_cancelled) is None


def test_check_cancelled_outside_a_worker() -> None:
    with pytest.raises(anyrun.NoEventLoopError, match="only in a worker thread"):
        anyrun.from_thread.check_cancelled()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_abandoned_thread_does_not_hold_up_the_run(backend: str) -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        started.set()
        assert release.wait(10)
        try:
            anyrun.from_thread.run_sync(int)
        except BaseException as exc:
            seen.append(exc)
        done.set()

    async def main() -> None:
        async with Cancellable(
            backend, lambda: to_thread.run_sync(work, abandon_on_cancel=True)
        ) as call:
            assert await to_thread.run_sync(started.wait, 10)
            call.cancel()

    anyrun.run(main, backend=backend)  # returns while the thread still blocks
    release.set()
    assert done.wait(10)
    [exc] = seen
    assert isinstance(exc, anyrun.RunFinishedError)


# -- With anyrun's cancel scopes -----------------------------------------------------


async def test_a_cancelled_scope_never_starts_the_thread() -> None:
    ran = []
    with anyrun.CancelScope() as scope:
        scope.cancel()
        await to_thread.run_sync(ran.append, 1)
    assert scope.cancelled_caught
    assert ran == []


async def test_a_scope_cancelled_while_the_thread_runs(
    anyrun_backend_name: str,
) -> None:
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    scope = anyrun.CancelScope()

    def work() -> None:
        started.set()
        assert release.wait(10)
        order.append("thread returned")

    async def call() -> None:
        with scope:
            await to_thread.run_sync(work)
            order.append("not reached")

    async with anyrun.create_task_group() as tg:
        tg.start_soon(call)
        assert await in_plain_thread(anyrun_backend_name, lambda: started.wait(10))
        scope.cancel()
        for _ in range(10):
            await anyrun.lowlevel.checkpoint()
        order.append("cancelled")
        release.set()
    assert scope.cancelled_caught
    assert order == ["cancelled", "thread returned"]


async def test_a_scope_abandons_the_thread(anyrun_backend_name: str) -> None:
    started, release = threading.Event(), threading.Event()
    with anyrun.move_on_after(10) as scope:
        async with anyrun.create_task_group() as tg:

            async def cancel_when_started() -> None:
                assert await in_plain_thread(
                    anyrun_backend_name, lambda: started.wait(10)
                )
                scope.cancel()

            tg.start_soon(cancel_when_started)
            await to_thread.run_sync(
                lambda: (started.set(), release.wait(10)), abandon_on_cancel=True
            )
    assert scope.cancelled_caught
    assert not release.is_set()
    release.set()
