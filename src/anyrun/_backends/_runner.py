"""A back-port of :class:`asyncio.Runner` (Python 3.11) for Python 3.9 and 3.10.

It differs from the 3.11 original only where the older asyncio lacks a feature:
``Task.uncancel()`` does not exist, so a main task cancelled by Ctrl+C always ends in
:exc:`KeyboardInterrupt` (the original, and AnyIO's back-port, would let the
:exc:`asyncio.CancelledError` escape instead); and ``create_task()`` takes no
``context``, so each :meth:`Runner.run` gives its task a copy of the runner's context.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


class Runner:
    def __init__(
        self,
        *,
        debug: bool | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self._debug = debug
        self._loop_factory = loop_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self._closed = False
        self._set_event_loop = False
        self._interrupt_count = 0

    def __enter__(self) -> Runner:
        self._lazy_init()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._lazy_init()

    def close(self) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            if self._set_event_loop:
                asyncio.set_event_loop(None)
            loop.close()
            self._loop = None
            self._closed = True

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        context: contextvars.Context | None = None,
    ) -> T:
        if not asyncio.iscoroutine(coro):
            raise ValueError(f"a coroutine was expected, got {coro!r}")
        if asyncio.events._get_running_loop() is not None:
            raise RuntimeError(
                "Runner.run() cannot be called from a running event loop"
            )
        loop = self._lazy_init()
        if context is None:
            context = self._context
        assert context is not None
        if sys.version_info >= (3, 11):
            task = loop.create_task(coro, context=context)
        else:
            task = context.run(loop.create_task, coro)

        sigint_handler: Callable[[int, FrameType | None], None] | None = None
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            sigint_handler = partial(self._on_sigint, main_task=task)
            try:
                signal.signal(signal.SIGINT, sigint_handler)
            except ValueError:  # an embedded interpreter may not allow it
                sigint_handler = None

        self._interrupt_count = 0
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if self._interrupt_count > 0:
                uncancel = getattr(task, "uncancel", None)
                # Without uncancel() (before 3.11) nothing else can have asked for the
                # cancellation to be kept, so Ctrl+C wins.
                if uncancel is None or uncancel() == 0:
                    raise KeyboardInterrupt() from None
            raise
        finally:
            if (
                sigint_handler is not None
                and signal.getsignal(signal.SIGINT) is sigint_handler
            ):
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def _lazy_init(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise RuntimeError("Runner is closed")
        if self._loop is not None:
            return self._loop
        if self._loop_factory is None:
            loop = asyncio.new_event_loop()
            if not self._set_event_loop:
                asyncio.set_event_loop(loop)
                self._set_event_loop = True
        else:
            loop = self._loop_factory()
        if self._debug is not None:
            loop.set_debug(self._debug)
        self._loop = loop
        self._context = contextvars.copy_context()
        return loop

    def _on_sigint(
        self, signum: int, frame: FrameType | None, main_task: asyncio.Task[Any]
    ) -> None:
        self._interrupt_count += 1
        if self._interrupt_count == 1 and not main_task.done():
            main_task.cancel()
            # Wake the loop up if it is blocked in select() with a long timeout.
            assert self._loop is not None
            self._loop.call_soon_threadsafe(lambda: None)
            return
        raise KeyboardInterrupt()


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    to_cancel = asyncio.all_tasks(loop)
    if not to_cancel:
        return
    for task in to_cancel:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*to_cancel, return_exceptions=True))
    for task in to_cancel:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during anyrun.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
