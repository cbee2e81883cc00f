"""anyrun.CapacityLimiter, on asyncio and as a wrapper of trio's."""

from __future__ import annotations

import math

import pytest
import trio

import anyrun
from anyrun import CapacityLimiter, CapacityLimiterStatistics, WouldBlock
from anyrun.lowlevel import checkpoint
from thread_helpers import Cancellable, cancelled_class, gather

pytestmark = pytest.mark.anyrun


@pytest.mark.parametrize("bad", [1.5, "3", None, math.nan])
def test_total_tokens_must_be_an_int_or_inf(bad: object) -> None:
    with pytest.raises(TypeError, match=r"total_tokens must be an int or math\.inf"):
        CapacityLimiter(bad)  # type: ignore[arg-type]


def test_total_tokens_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="total_tokens must be >= 0, not -1"):
        CapacityLimiter(-1)


async def test_borrow_and_give_back() -> None:
    limiter = CapacityLimiter(2)
    assert (limiter.total_tokens, limiter.borrowed_tokens) == (2, 0)
    assert limiter.available_tokens == 2
    async with limiter:
        assert limiter.borrowed_tokens == 1
        assert limiter.available_tokens == 1
        limiter.acquire_on_behalf_of_nowait("other")
        assert limiter.available_tokens == 0
        with pytest.raises(WouldBlock):
            limiter.acquire_on_behalf_of_nowait("third")
        stats = limiter.statistics()
        assert isinstance(stats, CapacityLimiterStatistics)
        assert stats.borrowed_tokens == 2
        assert stats.total_tokens == 2
        assert "other" in stats.borrowers
        assert stats.tasks_waiting == 0
        limiter.release_on_behalf_of("other")
    assert limiter.borrowed_tokens == 0
    assert "0/2 borrowed" in repr(limiter)


async def test_misuse_raises() -> None:
    limiter = CapacityLimiter(5)
    await limiter.acquire()
    with pytest.raises(RuntimeError, match="already holding one"):
        limiter.acquire_nowait()
    with pytest.raises(RuntimeError, match="already holding one"):
        await limiter.acquire()
    limiter.release()
    with pytest.raises(RuntimeError, match="isn't holding any"):
        limiter.release()
    with pytest.raises(RuntimeError, match="isn't holding any"):
        limiter.release_on_behalf_of("nobody")


async def test_waiters_get_tokens_in_order(anyrun_backend_name: str) -> None:
    limiter = CapacityLimiter(1)
    limiter.acquire_on_behalf_of_nowait("holder")
    arrived: list[int] = []
    order: list[int] = []

    async def waiter(i: int) -> None:
        arrived.append(i)  # trio starts tasks in any order
        await limiter.acquire_on_behalf_of(i)
        order.append(i)
        limiter.release_on_behalf_of(i)

    async def release_later() -> None:
        while limiter.statistics().tasks_waiting < 3:
            await checkpoint()
        limiter.release_on_behalf_of("holder")

    await gather(
        anyrun_backend_name,
        *[lambda i=i: waiter(i) for i in range(3)],  # type: ignore[misc]
        release_later,
    )
    assert order == arrived
    assert sorted(order) == [0, 1, 2]


async def test_more_tokens_wake_waiters(anyrun_backend_name: str) -> None:
    limiter = CapacityLimiter(0)
    got: list[int] = []

    async def waiter(i: int) -> None:
        await limiter.acquire_on_behalf_of(i)
        got.append(i)

    async def grow() -> None:
        while limiter.statistics().tasks_waiting < 3:
            await checkpoint()
        limiter.total_tokens = 2
        while len(got) < 2:
            await checkpoint()
        assert limiter.statistics().tasks_waiting == 1
        limiter.total_tokens = math.inf
        assert limiter.available_tokens == math.inf

    await gather(
        anyrun_backend_name,
        *[lambda i=i: waiter(i) for i in range(3)],  # type: ignore[misc]
        grow,
    )
    assert sorted(got) == [0, 1, 2]
    with pytest.raises(TypeError):
        limiter.total_tokens = 2.5


async def test_a_cancelled_waiter_leaves_the_queue(anyrun_backend_name: str) -> None:
    limiter = CapacityLimiter(1)
    limiter.acquire_on_behalf_of_nowait("holder")
    async with Cancellable(
        anyrun_backend_name, lambda: limiter.acquire_on_behalf_of("waiter")
    ) as call:
        while limiter.statistics().tasks_waiting < 1:
            await checkpoint()
        call.cancel()
    [(kind, exc)] = call.outcome
    assert kind == "raised"
    assert isinstance(exc, cancelled_class(anyrun_backend_name))
    assert limiter.statistics().tasks_waiting == 0
    limiter.release_on_behalf_of("holder")
    assert limiter.borrowed_tokens == 0
    limiter.acquire_nowait()  # nobody is in the queue before us


def test_on_trio_it_wraps_trio() -> None:
    from anyrun._backends._trio import _limiter

    async def main() -> None:
        default = anyrun.to_thread.current_default_thread_limiter()
        assert isinstance(default._original, trio.CapacityLimiter)  # type: ignore[attr-defined]
        if _limiter._RESERVED is None:
            native = trio.to_thread.current_default_thread_limiter()
            assert default._original is native  # type: ignore[attr-defined]
            async with native:  # trio.to_thread shares the limit
                assert default.borrowed_tokens == 1

    anyrun.run(main, backend="trio")


def test_zero_tokens_on_a_trio_that_refuses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from anyrun._backends._trio import _limiter

    monkeypatch.setattr(_limiter, "_RESERVED", _limiter._Reserved())
    got = []

    async def take() -> None:
        await limiter.acquire()
        got.append("token")

    async def main() -> None:
        assert limiter.total_tokens == 0
        assert (limiter.borrowed_tokens, limiter.available_tokens) == (0, 0)
        assert limiter.statistics() == CapacityLimiterStatistics(0, 0, (), 0)
        with pytest.raises(WouldBlock):
            limiter.acquire_nowait()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(take)
            while not limiter.statistics().tasks_waiting:
                await checkpoint()
            limiter.total_tokens = 1
        assert got == ["token"]
        assert limiter.statistics().borrowed_tokens == 1
        assert anyrun.to_thread.current_default_thread_limiter().total_tokens == 40

    limiter = CapacityLimiter(0)
    anyrun.run(main, backend="trio")


def test_made_outside_a_loop_binds_on_first_use() -> None:
    limiter = CapacityLimiter(3)
    limiter.total_tokens = 4
    assert (limiter.total_tokens, limiter.borrowed_tokens) == (4, 0)
    assert limiter.statistics() == CapacityLimiterStatistics(0, 4, (), 0)

    async def use() -> float:
        async with limiter:
            return limiter.available_tokens

    assert anyrun.run(use) == 3
    assert limiter.total_tokens == 4


def test_statistics_compare_by_value() -> None:
    stats = CapacityLimiterStatistics(1, 2, ("a",), 0)
    assert stats == CapacityLimiterStatistics(1, 2, ("a",), 0)
    assert stats != CapacityLimiterStatistics(1, 3, ("a",), 0)
    assert "borrowed_tokens=1" in repr(stats)
