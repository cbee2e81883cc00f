from __future__ import annotations

import trio

from ..._core._exceptions import WouldBlock
from ..._core._limiter import (
    CapacityLimiter,
    CapacityLimiterStatistics,
    check_total_tokens,
)
from ..._core._workers import DEFAULT_THREAD_LIMIT


def _accepts_zero() -> bool:
    try:
        trio.CapacityLimiter(0)
    except ValueError:
        return False
    return True


class _Reserved:
    def __repr__(self) -> str:
        return "<anyrun's reserved token>"


#: trio before 0.32 refuses 0 tokens, which AnyIO and anyrun accept. With such a trio,
#: each limiter has one token more, borrowed for good by this object.
_RESERVED: _Reserved | None = None if _accepts_zero() else _Reserved()


class TrioCapacityLimiter(CapacityLimiter):
    """A :class:`trio.CapacityLimiter` in anyrun's clothes."""

    __slots__ = ("_original", "_reserve")

    _original: trio.CapacityLimiter
    #: 1 if a token of the original is reserved (see _RESERVED), else 0.
    _reserve: int

    @classmethod
    def create(cls, total_tokens: float) -> TrioCapacityLimiter:
        self = object.__new__(cls)
        if _RESERVED is None:
            self._original = trio.CapacityLimiter(total_tokens)
            self._reserve = 0
        else:
            self._original = trio.CapacityLimiter(total_tokens + 1)
            self._original.acquire_on_behalf_of_nowait(_RESERVED)
            self._reserve = 1
        return self

    @classmethod
    def default(cls) -> TrioCapacityLimiter:
        if _RESERVED is not None:
            return cls.create(DEFAULT_THREAD_LIMIT)
        # trio's own, which trio.to_thread.run_sync() uses too (of 40 tokens).
        self = object.__new__(cls)
        self._original = trio.to_thread.current_default_thread_limiter()
        self._reserve = 0
        return self

    @property
    def total_tokens(self) -> float:
        return self._original.total_tokens - self._reserve

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        check_total_tokens(value)
        self._original.total_tokens = value + self._reserve

    @property
    def borrowed_tokens(self) -> int:
        return self._original.borrowed_tokens - self._reserve

    @property
    def available_tokens(self) -> float:
        return self._original.available_tokens

    def acquire_nowait(self) -> None:
        try:
            self._original.acquire_nowait()
        except trio.WouldBlock:
            raise WouldBlock from None

    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        try:
            self._original.acquire_on_behalf_of_nowait(borrower)
        except trio.WouldBlock:
            raise WouldBlock from None

    async def acquire(self) -> None:
        await self._original.acquire()

    async def acquire_on_behalf_of(self, borrower: object) -> None:
        await self._original.acquire_on_behalf_of(borrower)

    async def _acquire_for_thread(self, borrower: object) -> None:
        await self._original.acquire_on_behalf_of(borrower)

    def release(self) -> None:
        self._original.release()

    def release_on_behalf_of(self, borrower: object) -> None:
        self._original.release_on_behalf_of(borrower)

    def statistics(self) -> CapacityLimiterStatistics:
        stats = self._original.statistics()
        return CapacityLimiterStatistics(
            borrowed_tokens=stats.borrowed_tokens - self._reserve,
            total_tokens=stats.total_tokens - self._reserve,
            borrowers=tuple(b for b in stats.borrowers if b is not _RESERVED),
            tasks_waiting=stats.tasks_waiting,
        )
