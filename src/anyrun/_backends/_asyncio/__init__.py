from __future__ import annotations

import asyncio
import sys
from asyncio import get_running_loop
from collections.abc import Awaitable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

from ..._core._workers import DEFAULT_THREAD_LIMIT
from .._base import Backend, TestRunner
from . import _cancel, _tasks, _threads
from ._cancel import AsyncioCancelScope, current_message
from ._limiter import AsyncioCapacityLimiter
from ._yield import YIELD_ONCE as _YIELD_ONCE

if TYPE_CHECKING:
    from ..._core._limiter import CapacityLimiter
    from ..._core._taskinfo import TaskInfo
    from ..._core._token import EventLoopToken, LoopCall
    from ..._core._workers import WorkerJob

if sys.version_info >= (3, 11):
    from asyncio import Runner
else:
    from .._runner import Runner

T = TypeVar("T")

# uvloop keeps timer delays as integer milliseconds and overflows on huge ones, so a
# longer sleep is taken in steps of this size (about 11 days).
_MAX_TIMER_DELAY = 1e6


class AsyncioBackend(Backend):
    name: ClassVar[str] = "asyncio"
    option_names: ClassVar[frozenset[str]] = frozenset(
        {"debug", "loop_factory", "use_uvloop"}
    )

    def __init__(self) -> None:
        super().__init__(lambda: _YIELD_ONCE, _YIELD_ONCE)

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

    async def checkpoint_if_cancelled(self) -> None:
        task = asyncio.current_task()
        if task is None:
            return
        message = current_message(task)
        if message is not None:
            raise asyncio.CancelledError(message)
        if task._must_cancel:  # type: ignore[attr-defined]
            # The task cancelled itself with Task.cancel(): its next await raises.
            await _YIELD_ONCE

    async def cancel_shielded_checkpoint(self) -> None:
        # Shielding is from anyrun's cancel scopes: a native Task.cancel() passes
        # through every shield by design.
        with AsyncioCancelScope.create(shield=True):
            await _YIELD_ONCE

    def cancelled_exc_class(self) -> type[BaseException]:
        return asyncio.CancelledError

    # Cancel scopes and task groups: see ._cancel and ._tasks

    # The classmethod itself, which saves a call on the path of move_on_after().
    create_cancel_scope = AsyncioCancelScope.create  # pyright: ignore[reportAssignmentType]

    def current_effective_deadline(self) -> float:
        return _cancel.current_effective_deadline()

    # The class itself, which saves a call on the path of create_task_group().
    create_task_group = _tasks.AsyncioTaskGroup  # pyright: ignore[reportAssignmentType]

    def get_current_task(self) -> TaskInfo:
        return _tasks.get_current_task()

    def get_running_tasks(self) -> list[TaskInfo]:
        return _tasks.get_running_tasks()

    def wait_all_tasks_blocked(self) -> Awaitable[None]:
        return _tasks.wait_all_tasks_blocked()

    # Threads: see ._threads and ._limiter

    def current_token(self) -> EventLoopToken:
        try:
            return _threads.tokens[get_running_loop()]
        except KeyError:
            return _threads.new_token(self)

    def start_call(self, call: LoopCall) -> None:
        _threads.start_call(call)

    def wait_for_worker(self, job: WorkerJob) -> Awaitable[None]:
        return _threads.wait_for_worker(job)

    def create_capacity_limiter(self, total_tokens: float) -> CapacityLimiter:
        return AsyncioCapacityLimiter.create(total_tokens)

    def default_thread_limiter(self) -> CapacityLimiter:
        return AsyncioCapacityLimiter.create(DEFAULT_THREAD_LIMIT)


backend = AsyncioBackend()
