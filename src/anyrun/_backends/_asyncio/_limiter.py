from __future__ import annotations

from asyncio import Future, current_task, get_running_loop
from collections import OrderedDict

from ..._core._exceptions import WouldBlock
from ..._core._limiter import (
    CapacityLimiter,
    CapacityLimiterStatistics,
    check_total_tokens,
)


def _current_task() -> object:
    task = current_task()
    if task is None:
        raise RuntimeError("this needs to run in a task, not in a bare callback")
    return task


class AsyncioCapacityLimiter(CapacityLimiter):
    __slots__ = ("_borrowers", "_total_tokens", "_waiters")

    _borrowers: set[object]
    _total_tokens: float
    #: Borrowers waiting for a token, first come first served.
    _waiters: OrderedDict[object, Future[None]]

    @classmethod
    def create(cls, total_tokens: float) -> AsyncioCapacityLimiter:
        self = object.__new__(cls)
        self._borrowers = set()
        self._total_tokens = total_tokens
        self._waiters = OrderedDict()
        return self

    @property
    def total_tokens(self) -> float:
        return self._total_tokens

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        check_total_tokens(value)
        self._total_tokens = value
        self._lend()

    @property
    def borrowed_tokens(self) -> int:
        return len(self._borrowers)

    @property
    def available_tokens(self) -> float:
        return self._total_tokens - len(self._borrowers)

    def _lend(self) -> None:
        """Hand free tokens to the waiters, in order."""
        waiters = self._waiters
        while waiters and len(self._borrowers) < self._total_tokens:
            borrower, future = waiters.popitem(last=False)
            if not future.done():  # else cancelled, and its task leaves
                self._borrowers.add(borrower)
                future.set_result(None)

    def acquire_nowait(self) -> None:
        self.acquire_on_behalf_of_nowait(_current_task())

    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        if borrower in self._borrowers:
            raise RuntimeError(
                "this borrower is already holding one of this CapacityLimiter's tokens"
            )
        if self._waiters or len(self._borrowers) >= self._total_tokens:
            raise WouldBlock
        self._borrowers.add(borrower)

    async def acquire(self) -> None:
        await self.acquire_on_behalf_of(_current_task())

    async def acquire_on_behalf_of(self, borrower: object) -> None:
        from . import backend

        await backend.checkpoint_if_cancelled()
        try:
            self.acquire_on_behalf_of_nowait(borrower)
        except WouldBlock:
            await self._wait(borrower)
        else:
            try:
                await backend.cancel_shielded_checkpoint()
            except BaseException:
                self.release_on_behalf_of(borrower)
                raise

    async def _acquire_for_thread(self, borrower: object) -> None:
        # The wait for the thread is a schedule point, so a free token needs none.
        if self._waiters or len(self._borrowers) >= self._total_tokens:
            await self._wait(borrower)
        else:
            self._borrowers.add(borrower)

    async def _wait(self, borrower: object) -> None:
        if borrower in self._waiters:
            raise RuntimeError(
                "this borrower is already waiting for one of this CapacityLimiter's "
                "tokens"
            )
        future = self._waiters[borrower] = get_running_loop().create_future()
        try:
            await future
        except BaseException:
            if self._waiters.get(borrower) is future:
                del self._waiters[borrower]
            elif future.done() and not future.cancelled():
                self.release_on_behalf_of(borrower)  # lent, but too late
            raise

    def release(self) -> None:
        self.release_on_behalf_of(_current_task())

    def release_on_behalf_of(self, borrower: object) -> None:
        try:
            self._borrowers.remove(borrower)
        except KeyError:
            raise RuntimeError(
                "this borrower isn't holding any of this CapacityLimiter's tokens"
            ) from None
        self._lend()

    def statistics(self) -> CapacityLimiterStatistics:
        return CapacityLimiterStatistics(
            borrowed_tokens=len(self._borrowers),
            total_tokens=self._total_tokens,
            borrowers=tuple(self._borrowers),
            tasks_waiting=sum(not f.done() for f in self._waiters.values()),
        )
