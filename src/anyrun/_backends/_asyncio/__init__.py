from __future__ import annotations

import asyncio
import sys
from asyncio import get_running_loop
from collections.abc import Awaitable, Coroutine, Mapping
from typing import Any, ClassVar, NoReturn, TypeVar

from .._base import Backend, TestRunner

if sys.version_info >= (3, 11):
    from asyncio import Runner
else:
    from .._runner import Runner

T = TypeVar("T")

# uvloop keeps timer delays as integer milliseconds and overflows on huge ones, so a
# longer sleep is taken in steps of this size (about 11 days).
_MAX_TIMER_DELAY = 1e6


class _YieldOnce:
    """Awaiting it gives up the loop for one iteration, as ``asyncio.sleep(0)`` does.

    A task that sees a bare ``None`` yielded reschedules itself; that is all
    ``asyncio.sleep(0)`` does too, through two frames. Here ``__await__`` is a C method
    that ignores ``self`` (builtins do not bind) and returns a fresh iterator over
    ``(None,)``, so one shared instance serves every checkpoint with no Python frame.
    """

    __slots__ = ()
    __await__ = (None,).__iter__


_YIELD_ONCE: Awaitable[None] = _YieldOnce()  # type: ignore[assignment]


class AsyncioBackend(Backend):
    name: ClassVar[str] = "asyncio"
    option_names: ClassVar[frozenset[str]] = frozenset(
        {"debug", "loop_factory", "use_uvloop"}
    )

    def prepare_run(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        loop_factory = options.get("loop_factory")
        if options.get("use_uvloop") and loop_factory is None:
            try:
                import uvloop
            except ModuleNotFoundError as exc:
                if exc.name != "uvloop":
                    raise
                raise ModuleNotFoundError(
                    "use_uvloop=True needs uvloop, which is not installed; "
                    'install it with: pip install "anyrun[uvloop]"',
                    name="uvloop",
                ) from None
            loop_factory = uvloop.new_event_loop
        return {"debug": options.get("debug"), "loop_factory": loop_factory}

    def run(self, coro: Coroutine[Any, Any, T], prepared: Mapping[str, Any]) -> T:
        with Runner(**prepared) as runner:
            return runner.run(coro)

    def create_test_runner(self, prepared: Mapping[str, Any]) -> TestRunner:
        from ._testing import AsyncioTestRunner

        return AsyncioTestRunner(prepared)

    def current_time(self) -> float:
        return get_running_loop().time()

    def sleep(self, delay: float) -> Awaitable[None]:
        if delay <= _MAX_TIMER_DELAY:
            return asyncio.sleep(delay)
        return self._long_sleep(delay)

    async def _long_sleep(self, delay: float) -> None:
        loop = get_running_loop()
        deadline = loop.time() + delay
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.sleep(min(remaining, _MAX_TIMER_DELAY))

    async def sleep_forever(self) -> NoReturn:
        await get_running_loop().create_future()
        raise AssertionError("a future nobody can resolve was resolved")

    def checkpoint(self) -> Awaitable[None]:
        return _YIELD_ONCE

    async def checkpoint_if_cancelled(self) -> None:
        # A cancellation requested with Task.cancel() is delivered by the task's next
        # await, so there is nothing pending to raise here.
        return

    def cancel_shielded_checkpoint(self) -> Awaitable[None]:
        # Shielding is from anyrun's cancel scopes; there are none to shield from
        # here, and a native Task.cancel() passes through every shield by design.
        return _YIELD_ONCE

    def cancelled_exc_class(self) -> type[BaseException]:
        return asyncio.CancelledError


backend = AsyncioBackend()
