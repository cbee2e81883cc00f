"""The cheapest checkpoint on asyncio: one bare yield."""

from __future__ import annotations

from collections.abc import Awaitable


class _YieldOnce:
    """Awaiting it gives up the loop for one iteration, as ``asyncio.sleep(0)`` does.

    A task that sees a bare ``None`` yielded reschedules itself; that is all
    ``asyncio.sleep(0)`` does too, through two frames. Here ``__await__`` is a C method
    that ignores ``self`` (builtins do not bind) and returns a fresh iterator over
    ``(None,)``, so one shared instance serves every checkpoint with no Python frame.
    """

    __slots__ = ()
    __await__ = (None,).__iter__


YIELD_ONCE: Awaitable[None] = _YieldOnce()  # type: ignore[assignment]
