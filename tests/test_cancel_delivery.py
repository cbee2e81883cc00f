"""Cancellation on asyncio is delivered at a bounded cost: no loop callback per
iteration while a task is slow to leave a cancelled scope (AnyIO's delivery retries
on every iteration, which keeps a CPU busy: anyio issues 1111 and 1257).

The loops here count what is scheduled with ``call_soon``, and by whom.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import anyrun

uvloop = pytest.importorskip("uvloop")


def _counting(base: type[asyncio.AbstractEventLoop]) -> type[asyncio.AbstractEventLoop]:
    class CountingLoop(base):  # type: ignore[misc, valid-type]
        counts: Counter[str]

        def call_soon(
            self, callback: Callable[..., object], *args: Any, **kwargs: Any
        ) -> Any:
            counts = self.__dict__.setdefault("counts", Counter())
            module = getattr(callback, "__module__", None) or ""
            counts["anyrun" if module.startswith("anyrun") else "other"] += 1
            return super().call_soon(callback, *args, **kwargs)

    return CountingLoop


LOOPS = [
    pytest.param(_counting(asyncio.SelectorEventLoop), id="asyncio"),
    pytest.param(_counting(uvloop.Loop), id="uvloop"),
]


def counts() -> Counter[str]:
    loop: Any = asyncio.get_running_loop()
    return Counter(loop.__dict__.get("counts", {}))


@pytest.mark.parametrize("loop_factory", LOOPS)
def test_shielded_task_in_cancelled_scope_costs_nothing_per_iteration(
    loop_factory: Any,
) -> None:
    iterations = 1000

    async def main() -> dict[str, int]:
        result = {}
        with anyrun.CancelScope() as outer:
            outer.cancel()
            with anyrun.CancelScope(shield=True):
                before = counts()
                for _ in range(iterations):  # many loop iterations, each a step
                    await asyncio.sleep(0)
                await anyrun.sleep(0.02)  # and some time blocked
                during = counts() - before
                result["anyrun during shield"] = during["anyrun"]
                result["other during shield"] = during["other"]
            before = counts()
            try:
                await anyrun.sleep(1)
            finally:
                result["anyrun to deliver"] = (counts() - before)["anyrun"]
        assert outer.cancelled_caught
        return result

    result = anyrun.run(main, backend_options={"loop_factory": loop_factory})
    assert result["other during shield"] >= iterations  # the loop did iterate
    assert result["anyrun during shield"] == 0
    assert result["anyrun to deliver"] <= 2


@pytest.mark.parametrize("loop_factory", LOOPS)
def test_blocked_task_in_cancelled_scope_costs_nothing_while_loop_is_busy(
    loop_factory: Any,
) -> None:
    # One task sits in a shielded scope inside a cancelled one, blocked, while
    # another keeps the loop iterating.
    iterations = 1000

    async def main() -> int:
        release = asyncio.Event()

        async def slow_to_leave(outer: anyrun.CancelScope) -> None:
            with outer:
                outer.cancel()
                with anyrun.CancelScope(shield=True):
                    await release.wait()
                await asyncio.sleep(10)  # cancelled, once out of the shield
            assert outer.cancelled_caught

        async with anyrun.create_task_group() as tg:
            tg.start_soon(slow_to_leave, anyrun.CancelScope())
            await anyrun.wait_all_tasks_blocked()
            before = counts()
            for _ in range(iterations):
                await asyncio.sleep(0)
            spent = (counts() - before)["anyrun"]
            release.set()
        return spent

    spent = anyrun.run(main, backend_options={"loop_factory": loop_factory})
    assert spent == 0


@pytest.mark.parametrize("loop_factory", LOOPS)
def test_task_swallowing_cancellation_costs_one_callback_per_checkpoint(
    loop_factory: Any,
) -> None:
    # Level cancellation: each checkpoint in the cancelled scope raises again. That
    # costs one callback per delivery, however long the task waits between them.
    deliveries = 20

    async def main() -> tuple[int, int]:
        raised = 0
        with anyrun.CancelScope() as scope:
            scope.cancel()
            before = counts()
            for _ in range(deliveries):
                try:
                    # Long enough never to end by itself first: uvloop fires due
                    # timers before other callbacks, and a native future that is
                    # already done when the delivery comes keeps its result.
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    raised += 1
            spent = (counts() - before)["anyrun"]
        return raised, spent

    raised, spent = anyrun.run(main, backend_options={"loop_factory": loop_factory})
    assert raised == deliveries
    assert spent <= deliveries + 2
