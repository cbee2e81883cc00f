from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from queue import SimpleQueue
from typing import Any, TypeVar

import trio
from outcome import Outcome

from .._base import TestRunner

T = TypeVar("T")

_Job = tuple[Coroutine[Any, Any, Any], list[Any]]


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
        self._idle = False
        self._closing = False
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

    def _drive(self, done: Callable[[], bool]) -> None:
        __tracebackhide__ = True
        while not done():
            self._host_calls.get()()

    async def _serve(self) -> None:
        self._task = trio.lowlevel.current_task()
        self._token = trio.lowlevel.current_trio_token()
        while not self._closing:
            if not self._jobs:
                self._idle = True
                await trio.lowlevel.wait_task_rescheduled(
                    lambda _: trio.lowlevel.Abort.SUCCEEDED
                )
                continue
            coro, box = self._jobs.popleft()
            try:
                box.append((True, await coro))
            except BaseException as exc:  # delivered to the caller, whatever it is
                box.append((False, exc))

    def _wake(self) -> None:
        # Runs inside trio, through the token.
        if self._idle and self._task is not None:
            self._idle = False
            trio.lowlevel.reschedule(self._task)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        __tracebackhide__ = True
        if self._outcome is not None or self._token is None:
            coro.close()
            raise RuntimeError(f"the trio test run has ended: {self._outcome!r}")
        box: list[tuple[bool, Any]] = []
        self._jobs.append((coro, box))
        self._token.run_sync_soon(self._wake)
        self._drive(lambda: bool(box) or self._outcome is not None)
        if not box:
            raise RuntimeError(f"the trio test run ended early: {self._outcome!r}")
        ok, value = box[0]
        if ok:
            return value  # type: ignore[no-any-return]
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
        if self._outcome is not None or self._token is None:
            return
        self._closing = True

        def cancel_everything() -> None:
            # Also ends a test left running by Ctrl+C.
            assert self._task is not None
            for nursery in self._task.child_nurseries:
                nursery.cancel_scope.cancel()
            self._wake()

        self._token.run_sync_soon(cancel_everything)
        self._drive(lambda: self._outcome is not None)


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
