"""Threads on trio: tokens, the host task's wait for a worker, calls from threads.

The worker threads are anyrun's own (trio's thread cache keeps idle threads after the
run ends); the waits and the calls into the loop use trio's primitives, as
``trio.to_thread`` and ``trio.from_thread`` do.
"""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from typing import TYPE_CHECKING

import trio
from trio.lowlevel import Abort, RunVar

from ..._core._exceptions import RunFinishedError
from ..._core._token import EventLoopToken, LoopCall

if TYPE_CHECKING:
    from ..._core._workers import WorkerJob
    from .._base import Backend

token_var: RunVar[EventLoopToken] = RunVar("anyrun.token")


def new_token(backend: Backend) -> EventLoopToken:
    trio_token = trio.lowlevel.current_trio_token()
    token = EventLoopToken(backend, trio_token, trio_token.run_sync_soon)
    token_var.set(token)
    try:
        trio.lowlevel.spawn_system_task(
            _close_at_end, token, name="anyrun: close the token when the run ends"
        )
    except RuntimeError:  # the system nursery is closed: the run is finishing
        token._close()
    return token


async def _close_at_end(token: EventLoopToken) -> None:
    # System tasks are cancelled once the main task has returned.
    try:
        await trio.sleep_forever()
    finally:
        token._close()


def _wake(job: WorkerJob) -> None:
    trio.lowlevel.reschedule(job.waiter)


async def wait_for_worker(job: WorkerJob) -> None:
    job.waiter = trio.lowlevel.current_task()
    job.wake = _wake

    def abort(raise_cancel: trio.lowlevel.RaiseCancelT) -> Abort:
        job.cancel(raise_cancel)
        return Abort.SUCCEEDED if job.abandon_on_cancel else Abort.FAILED

    await trio.lowlevel.wait_task_rescheduled(abort)
    if job.raise_cancel is not None:
        # Cancelled while the thread ran: raise now, if the cancellation still holds.
        await trio.lowlevel.checkpoint_if_cancelled()


def start_call(call: LoopCall) -> None:
    try:
        trio.lowlevel.spawn_system_task(
            _run_call if call.job is None else _run_bound_call,
            call,
            name=call.func,
            context=call.context,
        )
    except RuntimeError:  # the system nursery is closed: the run is finishing
        call.token._complete(
            call,
            None,
            RunFinishedError("The trio run is finishing and starts no more tasks"),
        )


@trio.lowlevel.disable_ki_protection
async def _run_call(call: LoopCall) -> None:
    # A system task is protected from KeyboardInterrupt; the user's function is not.
    # Only the end of the run cancels it.
    await call.run_async()


async def _run_bound_call(call: LoopCall) -> None:
    # The worker's host task may cancel it.
    with trio.CancelScope() as scope:
        call.started(scope.cancel)
        await _run_call(call)
