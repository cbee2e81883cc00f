from __future__ import annotations


class NoEventLoopError(RuntimeError):
    """Raised by a function that needs a running event loop when none of the supported
    backends is running one in the current thread."""


class RunFinishedError(RuntimeError):
    """Raised by :func:`anyrun.from_thread.run`, :func:`anyrun.from_thread.run_sync`
    and blocking portals when the event loop they call into has finished, or is
    finishing, so the call cannot run (or could not finish) there."""

    def __init__(self, *args: object) -> None:
        super().__init__(
            *(args or ("The event loop of this token has finished or is finishing",))
        )


class WouldBlock(Exception):
    """Raised by a ``*_nowait()`` method, such as
    :meth:`anyrun.CapacityLimiter.acquire_nowait`, when the operation would have to
    wait."""
