from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import trio

from .._base import Backend, TestRunner
from . import _tasks, _threads
from ._cancel import TrioCancelScope
from ._limiter import TrioCapacityLimiter

if TYPE_CHECKING:
    from ..._core._limiter import CapacityLimiter
    from ..._core._taskinfo import TaskInfo
    from ..._core._token import EventLoopToken, LoopCall
    from ..._core._workers import WorkerJob

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

    def __init__(self) -> None:
        # trio's own function, not a method calling it: a Python frame less.
        super().__init__(trio.lowlevel.checkpoint)

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

    def checkpoint_if_cancelled(self) -> Awaitable[None]:
        return trio.lowlevel.checkpoint_if_cancelled()

    def cancel_shielded_checkpoint(self) -> Awaitable[None]:
        return trio.lowlevel.cancel_shielded_checkpoint()

    def cancelled_exc_class(self) -> type[BaseException]:
        return trio.Cancelled

    # Cancel scopes and task groups: see ._cancel and ._tasks

    # The classmethod itself, which saves a call on the path of move_on_after().
    create_cancel_scope = TrioCancelScope.create  # pyright: ignore[reportAssignmentType]

    def current_effective_deadline(self) -> float:
        return trio.current_effective_deadline()

    # The class itself, which saves a call on the path of create_task_group().
    create_task_group = _tasks.TrioTaskGroup  # pyright: ignore[reportAssignmentType]

    def get_current_task(self) -> TaskInfo:
        return _tasks.get_current_task()

    def get_running_tasks(self) -> list[TaskInfo]:
        return _tasks.get_running_tasks()

    def wait_all_tasks_blocked(self) -> Awaitable[None]:
        return _tasks.wait_all_tasks_blocked()

    # Threads: see ._threads and ._limiter

    def current_token(self) -> EventLoopToken:
        try:
            return _threads.token_var.get()
        except LookupError:
            return _threads.new_token(self)

    def start_call(self, call: LoopCall) -> None:
        _threads.start_call(call)

    def wait_for_worker(self, job: WorkerJob) -> Awaitable[None]:
        return _threads.wait_for_worker(job)

    def create_capacity_limiter(self, total_tokens: float) -> CapacityLimiter:
        return TrioCapacityLimiter.create(total_tokens)

    def default_thread_limiter(self) -> CapacityLimiter:
        return TrioCapacityLimiter.default()


backend = TrioBackend()
