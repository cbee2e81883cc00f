"""The contract between the front end (:mod:`anyrun._core`) and the backends.

It holds only the operations that really differ between event loops; everything else
is built once, on top of it, in the front end. The front end validates arguments, so a
backend may assume them valid.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Coroutine, Mapping
from typing import Any, ClassVar, NoReturn, TypeVar

T = TypeVar("T")


class TestRunner(ABC):
    """Runs coroutines one after another in one long-lived task of one event loop,
    driven from synchronous code (the pytest plugin), so that fixtures and tests share
    the loop and the task's context."""

    @abstractmethod
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the runner's task until it finishes; raise what it raises."""

    @abstractmethod
    def running_tasks(self) -> set[object]:
        """The loop's unfinished tasks, other than the runner's own."""

    @abstractmethod
    def close(self) -> None:
        """End the task and close the loop."""


class Backend(ABC):
    name: ClassVar[str]
    #: The keyword options :func:`anyrun.run` accepts for this backend.
    option_names: ClassVar[frozenset[str]]

    @abstractmethod
    def prepare_run(self, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Turn validated option names into what :meth:`run` takes, importing what
        they need, so that a missing dependency fails before any loop starts."""

    @abstractmethod
    def run(self, coro: Coroutine[Any, Any, T], prepared: Mapping[str, Any]) -> T:
        """Run ``coro`` as the main task of a new event loop and return its result."""

    @abstractmethod
    def create_test_runner(self, prepared: Mapping[str, Any]) -> TestRunner: ...

    @abstractmethod
    def current_time(self) -> float: ...

    @abstractmethod
    def sleep(self, delay: float) -> Awaitable[None]:
        """Sleep ``delay`` seconds; ``delay`` is positive and may be ``inf``."""

    @abstractmethod
    def sleep_forever(self) -> Awaitable[NoReturn]: ...

    @abstractmethod
    def checkpoint(self) -> Awaitable[None]: ...

    @abstractmethod
    def checkpoint_if_cancelled(self) -> Awaitable[None]: ...

    @abstractmethod
    def cancel_shielded_checkpoint(self) -> Awaitable[None]: ...

    @abstractmethod
    def cancelled_exc_class(self) -> type[BaseException]: ...
