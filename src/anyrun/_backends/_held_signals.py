"""Ctrl+C and pytest-timeout's SIGALRM, held while a test runner drives its loop."""

from __future__ import annotations

import signal
import threading
from typing import Any, Callable

_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGALRM") if hasattr(signal, name)
)


class held_signals:
    """While the event loop runs, hold SIGINT and SIGALRM: call ``wake`` instead of
    their handlers, and run the handlers on :meth:`deliver`, once the loop has come
    back to the test runner.

    Raised at once, their exception (KeyboardInterrupt, pytest-timeout's ``Failed``)
    could land anywhere in the loop's own code and leave it broken, or be taken for a
    callback's error and only logged. Raised from the runner, between steps of the
    loop, it reaches the test, and the runner can still cancel the job and tear down.
    ``wake`` runs in the signal handler: it must be safe there, and make the loop
    return to the runner soon.
    """

    def __init__(self, wake: Callable[[], object]) -> None:
        self._wake = wake
        self._handlers: dict[int, Callable[[int, Any], Any]] = {}
        self.pending: list[tuple[int, Any]] = []

    def _hold(self, signum: int, frame: object) -> None:
        self.pending.append((signum, frame))
        self._wake()

    def __enter__(self) -> held_signals:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                handler = signal.getsignal(signum)
                if callable(handler):  # a Python-level handler, which may raise
                    self._handlers[signum] = handler
                    signal.signal(signum, self._hold)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._handlers.items():
            signal.signal(signum, handler)

    def deliver(self) -> None:
        """Run the held signals' own handlers, now."""
        pending, self.pending = self.pending, []
        for signum, frame in pending:
            self._handlers[signum](signum, frame)
