from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from .._base import TestRunner

if sys.version_info >= (3, 11):
    from asyncio import Runner
else:
    from .._runner import Runner

T = TypeVar("T")


class AsyncioTestRunner(TestRunner):
    def __init__(self, prepared: Mapping[str, Any]) -> None:
        self._runner = Runner(**prepared)
        self._loop = self._runner.get_loop()
        self._jobs: deque[tuple[Coroutine[Any, Any, Any], asyncio.Future[Any]]] = (
            deque()
        )
        self._wakeup = self._loop.create_future()
        self._closing = False
        self._task = self._loop.create_task(self._serve())

    async def _serve(self) -> None:
        # Every fixture and test runs in this one task, so context variables set by a
        # fixture are seen by the test, as in a synchronous test.
        while not self._closing:
            if not self._jobs:
                await self._wakeup
                self._wakeup = self._loop.create_future()
                continue
            coro, future = self._jobs.popleft()
            try:
                result = await coro
            except BaseException as exc:  # delivered to the caller, whatever it is
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                self._forget_cancellation()

    def _forget_cancellation(self) -> None:
        # A test that cancelled its own task must not leave the next one cancelled.
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is not None:
            while self._task.cancelling():
                uncancel()

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        future = self._loop.create_future()
        self._jobs.append((coro, future))
        if not self._wakeup.done():
            self._wakeup.set_result(None)
        return future

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        __tracebackhide__ = True
        return self._loop.run_until_complete(self._submit(coro))  # type: ignore[no-any-return]

    def running_tasks(self) -> set[object]:
        return {
            task for task in asyncio.all_tasks(self._loop) if task is not self._task
        }

    def close(self) -> None:
        try:
            if not self._task.done():
                # Also ends a test left running by Ctrl+C.
                self._closing = True
                self._task.cancel()
                self._loop.run_until_complete(
                    asyncio.gather(self._task, return_exceptions=True)
                )
        finally:
            self._runner.close()
