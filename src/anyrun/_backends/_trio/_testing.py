from __future__ import annotations

import inspect
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from queue import Empty, SimpleQueue
from typing import Any, TypeVar, cast

import trio
from outcome import Outcome

from .._base import TestRunner
from .._held_signals import held_signals

T = TypeVar("T")

_Job = tuple[Awaitable[Any], list[tuple[bool, Any]]]

# Seconds an interrupted job has to end once cancelled (its cleanup may need some).
_GRACE = 5.0


class TrioTestRunner(TestRunner):
    """Keeps one trio run alive between calls from synchronous code.

    trio runs as a guest of a trivial host loop: the calls trio asks its host to make
    are queued, and :meth:`run` makes them until its job is done. Between calls the
    run is simply not driven, so fixtures and tests share it and its main task.
    """

    def __init__(self, prepared: Mapping[str, Any]) -> None:
        self._host_calls: SimpleQueue[Callable[[], object]] = SimpleQueue()
        self._jobs: deque[_Job] = deque()
        self._task: trio.lowlevel.Task | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope = trio.CancelScope()  # the whole run's, for _cancel_job
        self._job_scope: trio.CancelScope | None = None
        self._idle = False
        self._closing = False
        self._stuck = False
        self._outcome: Outcome[None] | None = None
        with _default_sigint_kept():
            trio.lowlevel.start_guest_run(
                self._serve,
                run_sync_soon_threadsafe=self._host_calls.put,
                done_callback=self._finished,
                **prepared,
            )
        self._drive(lambda: self._token is not None or self._outcome is not None)

    def _finished(self, outcome: Outcome[None]) -> None:
        self._outcome = outcome

    def _drive(self, done: Callable[[], bool], timeout: float | None = None) -> None:
        __tracebackhide__ = True
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            # SimpleQueue.put is reentrant, so a signal handler may call it: that
            # wakes the get() below.
            with held_signals(lambda: self._host_calls.put(_nothing)) as deferred:
                while not done() and not deferred.pending:
                    wait = None
                    if deadline is not None:
                        wait = max(deadline - time.monotonic(), 0)
                    try:
                        call = self._host_calls.get(timeout=wait)
                    except Empty:
                        return
                    call()
            deferred.deliver()  # between trio's steps, where raising is safe

    async def _serve(self) -> None:
        self._task = trio.lowlevel.current_task()
        self._token = trio.lowlevel.current_trio_token()
        with self._scope:
            while not self._closing:
                if not self._jobs:
                    self._idle = True
                    # Shielded: a cancel scope that a fixture holds open, and that the
                    # last job cancelled, is for the next job to see, not the runner.
                    with trio.CancelScope(shield=True):
                        await trio.lowlevel.wait_task_rescheduled(
                            lambda _: trio.lowlevel.Abort.FAILED
                        )
                    continue
                coro, box = self._jobs.popleft()
                if inspect.iscoroutine(coro):
                    # A coroutine gets a cancel scope of its own, for Ctrl+C. A step of
                    # an async generator fixture cannot: it may leave a nursery open
                    # until its next step, and scopes must nest.
                    with trio.CancelScope() as self._job_scope:
                        await _perform(coro, box)
                    self._job_scope = None
                else:
                    await _perform(coro, box)

    def _wake(self) -> None:
        # Runs inside trio, through the token.
        if self._idle and self._task is not None:
            self._idle = False
            trio.lowlevel.reschedule(self._task)

    def _cancel_job(self) -> None:
        # Runs inside trio. Without a scope of its own, the job ends with the run.
        (self._job_scope or self._scope).cancel()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        __tracebackhide__ = True
        if self._stuck:
            coro.close()
            raise RuntimeError(
                "this trio run was given up: an interrupted test or fixture went on "
                "running after it was cancelled"
            )
        if self._outcome is not None or self._token is None:
            coro.close()
            raise RuntimeError(f"the trio test run has ended: {self._outcome!r}")
        box: list[tuple[bool, Any]] = []
        self._jobs.append((coro, box))
        self._token.run_sync_soon(self._wake)
        try:
            self._drive(lambda: bool(box) or self._outcome is not None)
        except BaseException as exc:
            if box or self._outcome is not None:
                raise
            # Interrupted (Ctrl+C, pytest-timeout) while the job waited; trio's own
            # Ctrl+C handler is kept out, see below. Cancel the job so that its
            # cleanup runs now and the runner is free for the fixtures' teardown;
            # then report the interruption where the job was waiting, as in a sync
            # test.
            self._token.run_sync_soon(self._cancel_job)
            self._drive(lambda: bool(box) or self._outcome is not None, _GRACE)
            self._stuck = not box and self._outcome is None  # then give the run up
            if box and not box[0][0]:
                raise exc.with_traceback(box[0][1].__traceback__)  # noqa: B904 (the same one)
            raise
        if not box:
            cause = getattr(getattr(self._outcome, "error", None), "__cause__", None)
            if isinstance(cause, KeyboardInterrupt):
                raise cause  # Ctrl+C landed in trio's own code, which ended the run
            raise RuntimeError(f"the trio test run ended early: {self._outcome!r}")
        ok, value = box[0]
        if ok:
            return cast("T", value)
        raise value

    def running_tasks(self) -> set[object]:
        return self.run(self._descendants())

    async def _descendants(self) -> set[object]:
        found: set[object] = set()
        pending = [trio.lowlevel.current_task()]
        while pending:
            for nursery in pending.pop().child_nurseries:
                found.update(nursery.child_tasks)
                pending.extend(nursery.child_tasks)
        return found

    def close(self) -> None:
        if self._outcome is None and self._token is not None and not self._stuck:
            self._closing = True
            self._token.run_sync_soon(self._wake)
            self._drive(lambda: self._outcome is not None)


async def _perform(job: Awaitable[Any], box: list[tuple[bool, Any]]) -> None:
    try:
        box.append((True, await job))
    except BaseException as exc:  # delivered to the caller, whatever it is
        box.append((False, exc))


class _default_sigint_kept:
    """Stop trio from installing its Ctrl+C handler for the guest run.

    trio installs it only over the default handler. Its handler would outlive each
    call and, between calls, hold the KeyboardInterrupt for a run nobody drives; with
    the default one, Ctrl+C raises wherever the main thread is, as in a sync test.
    """

    def __enter__(self) -> None:
        self._swapped = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if self._swapped:
            signal.signal(signal.SIGINT, _raise_keyboard_interrupt)

    def __exit__(self, *exc_info: object) -> None:
        if self._swapped:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _nothing() -> None:
    pass
