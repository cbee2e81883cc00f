"""anyrun.from_thread and event loop tokens: calls into the loop from threads."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
import sniffio
import trio

import anyrun
import anyrun._core._token
import anyrun.lowlevel
from anyrun import from_thread, to_thread
from anyrun.lowlevel import EventLoopToken, current_token
from thread_helpers import Cancellable, cancelled_class, gather, in_plain_thread

pytestmark = pytest.mark.anyrun

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

BACKENDS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
    pytest.param(("trio", {}), id="trio"),
]


async def describe(tag: str) -> tuple[str, str, str, float]:
    """What an async function called from a thread sees."""
    await anyrun.sleep(0)
    return tag, var.get(), sniffio.current_async_library(), anyrun.current_time()


def describe_sync(tag: str) -> tuple[str, str, str]:
    return tag, var.get(), sniffio.current_async_library()


# -- From worker threads -------------------------------------------------------------


async def test_run_from_a_worker(anyrun_backend_name: str) -> None:
    def work() -> Any:
        var.set("worker")
        return from_thread.run(describe, "x")

    tag, seen, library, now = await to_thread.run_sync(work)
    assert (tag, seen, library) == ("x", "worker", anyrun_backend_name)
    assert now <= anyrun.current_time()


async def test_run_sync_from_a_worker(anyrun_backend_name: str) -> None:
    def work() -> Any:
        var.set("worker")
        return from_thread.run_sync(describe_sync, "y"), threading.get_ident()

    result, worker_ident = await to_thread.run_sync(work)
    assert result == ("y", "worker", anyrun_backend_name)
    assert worker_ident != threading.get_ident()
    assert from_thread is anyrun.from_thread


async def test_run_sync_runs_in_the_loop_thread() -> None:
    ident = await to_thread.run_sync(from_thread.run_sync, threading.get_ident)
    assert ident == threading.get_ident()


async def test_exceptions_cross_back_intact() -> None:
    error = KeyError("inner")

    async def fail_async() -> None:
        raise error

    def fail_sync() -> None:
        raise error

    def work() -> list[BaseException]:
        caught = []
        for call, func in (
            (from_thread.run, fail_async),
            (from_thread.run_sync, fail_sync),
        ):
            try:
                call(func)  # type: ignore[operator]
            except KeyError as exc:
                caught.append(exc)
        return caught

    assert await to_thread.run_sync(work) == [error, error]


async def test_a_base_exception_reaches_the_thread() -> None:
    async def interrupt() -> None:
        raise KeyboardInterrupt

    def work() -> str:
        try:
            from_thread.run(interrupt)
        except KeyboardInterrupt:
            return "caught"
        return "missed"

    assert await to_thread.run_sync(work) == "caught"


async def test_wrong_kind_of_function() -> None:
    async def coroutine_function() -> None:
        pass

    def work() -> list[str]:
        messages = []
        for call, func in (
            (from_thread.run, int),
            (from_thread.run_sync, coroutine_function),
        ):
            try:
                call(func)  # type: ignore[operator]
            except TypeError as exc:
                messages.append(str(exc))
        return messages

    regular, async_ = await to_thread.run_sync(work)
    assert "expected an async function" in regular
    assert "expected a regular function" in async_


async def test_a_worker_call_shares_the_host_cancellation(
    anyrun_backend_name: str,
) -> None:
    in_loop = threading.Event()
    seen: list[BaseException] = []

    async def wait_forever() -> None:
        in_loop.set()
        await anyrun.sleep_forever()

    def work() -> None:
        try:
            from_thread.run(wait_forever)
        except BaseException as exc:
            seen.append(exc)
            raise

    async with Cancellable(
        anyrun_backend_name, lambda: to_thread.run_sync(work)
    ) as call:
        assert await in_plain_thread(anyrun_backend_name, lambda: in_loop.wait(10))
        call.cancel()
    [exc] = seen
    assert isinstance(exc, cancelled_class(anyrun_backend_name))
    [(kind, raised)] = call.outcome
    assert kind == "raised"
    assert isinstance(raised, cancelled_class(anyrun_backend_name))


async def test_after_cancellation_new_worker_calls_are_cancelled(
    anyrun_backend_name: str,
) -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[str] = []

    async def checkpoint() -> None:
        await anyrun.lowlevel.checkpoint()

    def work() -> None:
        started.set()
        assert release.wait(10)
        try:
            from_thread.run(checkpoint)
        except cancelled_class(anyrun_backend_name):
            seen.append("cancelled")
        seen.append(from_thread.run_sync(str, "sync calls still run"))

    async with Cancellable(
        anyrun_backend_name, lambda: to_thread.run_sync(work)
    ) as call:
        assert await in_plain_thread(anyrun_backend_name, lambda: started.wait(10))
        call.cancel()
        for _ in range(10):
            await anyrun.lowlevel.checkpoint()
        release.set()
    assert seen == ["cancelled", "sync calls still run"]


async def test_an_abandoned_worker_calls_in_uncancelled(
    anyrun_backend_name: str,
) -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def work() -> None:
        started.set()
        assert release.wait(10)
        seen.append(from_thread.run(describe, "after"))
        done.set()

    async with Cancellable(
        anyrun_backend_name, lambda: to_thread.run_sync(work, abandon_on_cancel=True)
    ) as call:
        assert await in_plain_thread(anyrun_backend_name, lambda: started.wait(10))
        call.cancel()
    release.set()
    assert await in_plain_thread(anyrun_backend_name, lambda: done.wait(10))
    assert seen[0][:3] == ("after", "unset", anyrun_backend_name)


# -- Tokens and foreign threads ------------------------------------------------------


async def test_one_token_per_run() -> None:
    token = current_token()
    assert isinstance(token, EventLoopToken)
    assert current_token() is token
    assert await to_thread.run_sync(from_thread.run_sync, current_token) is token
    assert "running" in repr(token)


async def test_a_foreign_thread_calls_in_with_a_token(anyrun_backend_name: str) -> None:
    token = current_token()

    def foreign() -> Any:
        var.set("foreign")
        return (
            from_thread.run(describe, "a", token=token)[:3],
            from_thread.run_sync(describe_sync, "s", token=token),
        )

    assert await in_plain_thread(anyrun_backend_name, foreign) == (
        ("a", "foreign", anyrun_backend_name),
        ("s", "foreign", anyrun_backend_name),
    )


async def test_a_worker_may_pass_a_token_too(anyrun_backend_name: str) -> None:
    token = current_token()
    result = await to_thread.run_sync(
        lambda: from_thread.run(describe, "w", token=token)
    )
    assert result[:3] == ("w", "unset", anyrun_backend_name)


async def test_a_foreign_thread_without_a_token(anyrun_backend_name: str) -> None:
    def foreign() -> list[BaseException]:
        errors = []
        for call, func in ((from_thread.run, describe), (from_thread.run_sync, int)):
            try:
                call(func)  # type: ignore[operator]
            except BaseException as exc:
                errors.append(exc)
        return errors

    errors = await in_plain_thread(anyrun_backend_name, foreign)
    assert [type(exc) for exc in errors] == [anyrun.NoEventLoopError] * 2
    assert "anyrun.lowlevel.current_token()" in str(errors[0])
    assert "token=token" in str(errors[1])


async def test_calling_from_the_loop_thread_raises_rather_than_hangs() -> None:
    with pytest.raises(RuntimeError, match="event loop's own thread") as info:
        from_thread.run_sync(int)
    assert type(info.value) is RuntimeError
    with pytest.raises(RuntimeError, match="token's own event loop"):
        from_thread.run(describe, "x", token=current_token())
    with pytest.raises(RuntimeError, match="token's own event loop"):
        from_thread.run_sync(int, token=current_token())


def test_a_token_must_be_a_token() -> None:
    with pytest.raises(TypeError, match="token must be an EventLoopToken"):
        from_thread.run_sync(int, token=object())  # type: ignore[arg-type]


def test_current_token_outside_a_loop() -> None:
    with pytest.raises(anyrun.NoEventLoopError):
        current_token()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_finished_run_fails_calls_at_once(
    backend: tuple[str, dict[str, Any]],
) -> None:
    name, options = backend

    async def get_token() -> EventLoopToken:
        return current_token()

    token = anyrun.run(get_token, backend=name, backend_options=options)
    assert "finished" in repr(token)
    with pytest.raises(anyrun.RunFinishedError, match="has finished"):
        from_thread.run(describe, "late", token=token)
    with pytest.raises(anyrun.RunFinishedError):
        from_thread.run_sync(int, token=token)
    assert issubclass(anyrun.RunFinishedError, RuntimeError)


def test_native_runners_finish_their_tokens() -> None:
    async def get_token() -> EventLoopToken:
        return current_token()

    for token in (asyncio.run(get_token()), trio.run(get_token)):
        with pytest.raises(anyrun.RunFinishedError):
            from_thread.run_sync(int, token=token)


def test_a_loop_closed_without_shutdown_releases_its_waiters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No runner: the loop is closed without shutdown_asyncgens(), so the token never
    # hears of it; a waiting thread must notice by itself.
    monkeypatch.setattr(anyrun._core._token, "GONE_POLL_INTERVAL", 0.01)

    async def get_token() -> EventLoopToken:
        return current_token()

    loop = asyncio.new_event_loop()
    token = loop.run_until_complete(get_token())
    errors: list[BaseException] = []

    def call_in() -> None:
        try:
            from_thread.run_sync(int, token=token)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call_in)
    thread.start()
    while not token._pending:  # queued, and the loop is not running
        thread.join(0.001)
    loop.close()
    thread.join(10)
    [exc] = errors
    assert isinstance(exc, anyrun.RunFinishedError)
    with pytest.raises(anyrun.RunFinishedError):  # and now at once
        from_thread.run_sync(int, token=token)
    asyncio.run(get_token())  # which clears the closed loop's token


# -- Stress and faults ---------------------------------------------------------------


async def test_many_threads_many_calls(anyrun_backend_name: str) -> None:
    threads, calls = 32, 500
    token = current_token()
    barrier = threading.Barrier(threads, timeout=30)
    ran: list[tuple[int, int]] = []

    async def echo(item: tuple[int, int]) -> tuple[int, int]:
        ran.append(item)
        await anyrun.lowlevel.checkpoint()
        return item

    def client(i: int) -> list[tuple[int, int]]:
        barrier.wait()
        return [from_thread.run(echo, (i, j), token=token) for j in range(calls)]

    def run_clients() -> list[list[tuple[int, int]]]:
        results: list[Any] = [None] * threads

        def target(i: int) -> None:
            results[i] = client(i)

        workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        return results

    results = await in_plain_thread(anyrun_backend_name, run_clients)
    for i, result in enumerate(results):
        assert result == [(i, j) for j in range(calls)]
    assert sorted(ran) == [(i, j) for i in range(threads) for j in range(calls)]


async def test_many_workers_calling_back(anyrun_backend_name: str) -> None:
    limiter = anyrun.CapacityLimiter(16)

    async def double(x: int) -> int:
        await anyrun.lowlevel.checkpoint()
        return 2 * x

    def work(i: int) -> list[int]:
        return [from_thread.run(double, i * 100 + j) for j in range(100)]

    results = await gather(
        anyrun_backend_name,
        *[
            (lambda i=i: to_thread.run_sync(work, i, limiter=limiter))
            for i in range(32)
        ],
    )
    assert results == [[2 * (i * 100 + j) for j in range(100)] for i in range(32)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_end_of_a_run_releases_every_waiting_thread(
    backend: tuple[str, dict[str, Any]],
) -> None:
    name, options = backend
    count = 16
    lock = threading.Lock()
    entered = [0]
    all_in = threading.Event()
    outcomes: list[BaseException | str] = []

    async def wait_forever() -> None:
        with lock:
            entered[0] += 1
            if entered[0] == count:
                all_in.set()
        await anyrun.sleep_forever()

    def foreign(token: EventLoopToken) -> None:
        try:
            from_thread.run(wait_forever, token=token)
        except BaseException as exc:
            outcomes.append(exc)
        else:
            outcomes.append("returned")

    threads: list[threading.Thread] = []

    async def main() -> None:
        token = current_token()
        for _ in range(count):
            threads.append(threading.Thread(target=foreign, args=(token,)))
            threads[-1].start()
        assert await in_plain_thread(name, lambda: all_in.wait(10))
        # Returning ends the run with 16 threads waiting on it.

    anyrun.run(main, backend=name, backend_options=options)
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    assert len(outcomes) == count
    for outcome in outcomes:
        assert isinstance(outcome, anyrun.RunFinishedError), outcome
        assert "finish" in str(outcome)
