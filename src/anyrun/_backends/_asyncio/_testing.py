from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar, cast

from .._base import TestRunner
from .._held_signals import held_signals

if sys.version_info >= (3, 11):
    from asyncio import Runner
else:
    from .._runner import Runner

T = TypeVar("T")
_Outcome = tuple[bool, Any]  # (True, result) or (False, exception)

# Seconds an interrupted job has to end once cancelled (its cleanup may need some).
_GRACE = 5.0


class AsyncioTestRunner(TestRunner):
    def __init__(self, prepared: Mapping[str, Any]) -> None:
        self._runner = Runner(**prepared)
        self._loop = self._runner.get_loop()
        self._jobs: deque[tuple[Coroutine[Any, Any, Any], asyncio.Future[_Outcome]]] = (
            deque()
        )
        self._wakeup = self._loop.create_future()
        self._closing = False
        self._stuck = False
        self._task = self._loop.create_task(self._serve())

    async def _serve(self) -> None:
        # Every fixture and test runs in this one task, so context variables set by a
        # fixture are seen by the test, as in a synchronous test.
        while True:
            if not self._jobs:
                try:
                    await self._wakeup
                except asyncio.CancelledError:
                    if self._closing:
                        raise
                    # Cancelled between jobs (after the job that asked for it ended,
                    # or by a cancel scope that a fixture holds open, which delivers
                    # again to the next job): not the end of the runner.
                    if sys.version_info >= (3, 11):
                        self._task.uncancel()
                self._wakeup = self._loop.create_future()
                continue
            coro, future = self._jobs.popleft()
            cancelling = self._cancelling()
            # The outcome comes back as a result: run_until_complete() would not stop
            # for a future holding KeyboardInterrupt or SystemExit (it expects those
            # to have stopped the loop on their way out of a task).
            try:
                future.set_result((True, await coro))
            except BaseException as exc:  # delivered to the caller, whatever it is
                future.set_result((False, exc))
            finally:
                # A job that cancelled the task, and caught it, must not leave the
                # next job cancelled (Python 3.11+ counts them: asyncio.timeout() and
                # TaskGroup look at the count).
                if sys.version_info >= (3, 11):
                    while self._task.cancelling() > cancelling:
                        self._task.uncancel()

    def _cancelling(self) -> int:
        if sys.version_info >= (3, 11):
            return self._task.cancelling()
        return 0

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[_Outcome]:
        future = self._loop.create_future()
        self._jobs.append((coro, future))
        if not self._wakeup.done():
            self._wakeup.set_result(None)
        return future

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        __tracebackhide__ = True
        if self._stuck:
            coro.close()
            raise RuntimeError(
                "this event loop was given up: an interrupted test or fixture went on "
                "running after it was cancelled"
            )
        future = self._submit(coro)
        try:
            ok, value = self._run_until_done(future)
        except BaseException as exc:
            if future.done():
                raise
            # Interrupted (Ctrl+C, pytest-timeout) while the job waited. Cancel the
            # job, as asyncio.run() cancels its main task, so that its cleanup runs
            # now and the runner is free for the fixtures' teardown; then report the
            # interruption where the job was waiting, as in a sync test.
            self._task.cancel()
            self._loop.run_until_complete(asyncio.wait([future], timeout=_GRACE))
            if not future.done():
                self._stuck = True  # it ignores cancellation: give up the loop
                raise
            ok, value = future.result()
            if not ok:
                raise exc.with_traceback(value.__traceback__)  # noqa: B904 (the same one)
            raise
        if ok:
            return cast("T", value)
        raise value

    def _run_until_done(self, future: asyncio.Future[_Outcome]) -> _Outcome:
        __tracebackhide__ = True
        loop = self._loop

        def stop_if_held() -> None:
            if held.pending:  # not yet delivered: this call is not a stale one
                loop.stop()

        # call_soon_threadsafe() may be called from a signal handler, as
        # asyncio.Runner's own Ctrl+C handler does.
        with held_signals(lambda: loop.call_soon_threadsafe(stop_if_held)) as held:
            try:
                loop.run_until_complete(future)
            except RuntimeError:  # "Event loop stopped before Future completed"?
                if not held.pending or future.done():
                    raise
        held.deliver()  # between steps of the loop, where raising is safe
        return future.result()

    def running_tasks(self) -> set[object]:
        return {
            task for task in asyncio.all_tasks(self._loop) if task is not self._task
        }

    def close(self) -> None:
        if self._stuck:
            self._loop.close()  # its tasks cannot be ended: leave them
            return
        try:
            if not self._task.done():
                self._closing = True
                self._task.cancel()
                self._loop.run_until_complete(
                    asyncio.gather(self._task, return_exceptions=True)
                )
        finally:
            self._runner.close()
