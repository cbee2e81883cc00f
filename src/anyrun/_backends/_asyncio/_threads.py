"""Threads on asyncio: tokens, the host task's wait for a worker, calls from threads.

A loop's token lives in :data:`tokens` until the loop shuts down. asyncio has no
"run ended" hook, but every runner (``asyncio.run()``, ``asyncio.Runner``,
``anyrun.run()``, uvloop's) calls ``loop.shutdown_asyncgens()``, which closes the async
generators the loop has seen start: the token starts one, whose ``finally`` closes the
token. That is after the loop's tasks have been cancelled and have finished, and
before the loop closes.
"""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import asyncio
import sys
from asyncio import AbstractEventLoop, CancelledError, get_running_loop
from collections.abc import AsyncGenerator
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, NoReturn, cast

from ..._core._token import EventLoopToken, LoopCall
from ._cancel import AsyncioCancelScope

if TYPE_CHECKING:
    from types import AsyncGeneratorType

    from ..._core._workers import WorkerJob
    from .._base import Backend

#: The token of each loop that has one.
tokens: dict[AbstractEventLoop, EventLoopToken] = {}


def new_token(backend: Backend) -> EventLoopToken:
    loop = get_running_loop()
    # A loop closed without shutdown_asyncgens() never told its token: close those
    # tokens now, which also releases any thread still waiting on them.
    for other in [other for other in tokens if other.is_closed()]:
        tokens[other]._close()
    token = EventLoopToken(backend, loop, loop.call_soon_threadsafe, loop.is_closed)
    hook = _close_at_shutdown(token)
    with suppress(StopIteration):
        hook.asend(None).send(None)  # the loop's firstiter hook now knows it
    token._on_close = partial(_forget, loop, token, hook)
    tokens[loop] = token
    return token


async def _close_at_shutdown(token: EventLoopToken) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        token._close()


def _forget(
    loop: AbstractEventLoop, token: EventLoopToken, hook: AsyncGenerator[None, None]
) -> None:
    if tokens.get(loop) is token:
        del tokens[loop]
    if not cast("AsyncGeneratorType[None, None]", hook).ag_running:
        # Closed some other way than by shutdown_asyncgens(): finish the generator
        # here, for the garbage collector would ask the loop to, which may be closed.
        with suppress(StopIteration):
            hook.aclose().send(None)


def _raise_cancelled() -> NoReturn:
    raise CancelledError("the task waiting for this worker thread was cancelled")


def _wake(job: WorkerJob) -> None:
    waiter: asyncio.Future[None] = job.waiter
    if not waiter.done():
        waiter.set_result(None)


async def wait_for_worker(job: WorkerJob) -> None:
    loop: AbstractEventLoop = job.token._native  # type: ignore[assignment]
    waiter = job.waiter = loop.create_future()
    job.wake = _wake
    try:
        await waiter
    except CancelledError:
        job.cancel(_raise_cancelled)
        if job.abandon_on_cancel:
            raise
        # The thread cannot be stopped: wait for it, then raise. The shield stops
        # anyrun's scopes from cancelling the wait again and again; a native
        # Task.cancel() still gets through, and is waited out too.
        with AsyncioCancelScope.create(shield=True):
            while not job.finished:
                waiter = job.waiter = loop.create_future()
                with suppress(CancelledError):
                    await waiter
        raise


def start_call(call: LoopCall) -> None:
    loop = get_running_loop()
    if sys.version_info >= (3, 11):
        task = loop.create_task(call.run_async(), context=call.context)
    else:  # a copy of the current context, made the call's
        task = call.context.run(loop.create_task, call.run_async())
    # A task cancelled before its first step never runs its coroutine.
    task.add_done_callback(call.task_done)
    call.started(task.cancel)
