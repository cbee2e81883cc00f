from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Mapping
from typing import Any, ClassVar, NoReturn, TypeVar

import trio

from .._base import Backend, TestRunner

T = TypeVar("T")


def _keyword_only_parameters(func: Any) -> frozenset[str]:
    # Read off the code object: exactly what this trio's run() accepts, without the
    # cost of importing inspect.
    code = func.__code__
    first = code.co_argcount + code.co_posonlyargcount
    return frozenset(code.co_varnames[first : first + code.co_kwonlyargcount])


class TrioBackend(Backend):
    name: ClassVar[str] = "trio"
    option_names: ClassVar[frozenset[str]] = _keyword_only_parameters(trio.run)

    def prepare_run(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        return options

    def run(self, coro: Coroutine[Any, Any, T], prepared: Mapping[str, Any]) -> T:
        return trio.run(lambda: coro, **prepared)

    def create_test_runner(self, prepared: Mapping[str, Any]) -> TestRunner:
        from ._testing import TrioTestRunner

        return TrioTestRunner(prepared)

    def current_time(self) -> float:
        return trio.current_time()

    def sleep(self, delay: float) -> Awaitable[None]:
        return trio.sleep(delay)

    def sleep_forever(self) -> Awaitable[NoReturn]:
        return trio.sleep_forever()

    def checkpoint(self) -> Awaitable[None]:
        return trio.lowlevel.checkpoint()

    def checkpoint_if_cancelled(self) -> Awaitable[None]:
        return trio.lowlevel.checkpoint_if_cancelled()

    def cancel_shielded_checkpoint(self) -> Awaitable[None]:
        return trio.lowlevel.cancel_shielded_checkpoint()

    def cancelled_exc_class(self) -> type[BaseException]:
        return trio.Cancelled


backend = TrioBackend()
