"""Helpers for the thread tests: native tasks, cancellation and waits, so that the
tests need none of anyrun's own task machinery."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import trio

import anyrun
import anyrun.lowlevel


async def gather(backend_name: str, *funcs: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run ``funcs`` as concurrent tasks, natively; return their results."""
    if backend_name != "trio":
        return list(await asyncio.gather(*(func() for func in funcs)))
    results: list[Any] = [None] * len(funcs)

    async def run(i: int) -> None:
        results[i] = await funcs[i]()

    async with trio.open_nursery() as nursery:
        for i in range(len(funcs)):
            nursery.start_soon(run, i)
    return results


class Cancellable:
    """Run an async function in a task that can be cancelled natively."""

    def __init__(self, backend_name: str, func: Callable[[], Awaitable[Any]]) -> None:
        self.backend_name = backend_name
        self.func = func
        self.outcome: list[tuple[str, Any]] = []
        self.done = threading.Event()

    async def _run(self) -> None:
        try:
            self.outcome.append(("value", await self.func()))
        except BaseException as exc:
            self.outcome.append(("raised", exc))
            raise
        finally:
            self.done.set()

    async def __aenter__(self) -> Cancellable:
        if self.backend_name == "trio":
            self._nursery_cm = trio.open_nursery()
            self._nursery = await self._nursery_cm.__aenter__()
            self._scope = trio.CancelScope()

            async def run() -> None:
                with self._scope:
                    await self._run()

            self._nursery.start_soon(run)
        else:
            self._task = asyncio.ensure_future(self._run())
        return self

    def cancel(self) -> None:
        if self.backend_name == "trio":
            self._scope.cancel()
        else:
            self._task.cancel()

    async def __aexit__(self, *exc_info: object) -> None:
        if self.backend_name == "trio":
            await self._nursery_cm.__aexit__(None, None, None)
        else:
            await asyncio.gather(self._task, return_exceptions=True)


async def in_plain_thread(backend_name: str, func: Callable[[], Any]) -> Any:
    """Call ``func`` in a new thread, not a worker, and wait for it natively."""
    done: Any = trio.Event() if backend_name == "trio" else asyncio.Event()
    token = anyrun.lowlevel.current_token()
    result = []

    def target() -> None:
        result.append(func())
        anyrun.from_thread.run_sync(done.set, token=token)

    threading.Thread(target=target).start()
    await done.wait()
    return result[0]


def cancelled_class(backend_name: str) -> type[BaseException]:
    return trio.Cancelled if backend_name == "trio" else asyncio.CancelledError
