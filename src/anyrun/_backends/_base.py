"""The contract between the front end (:mod:`anyrun._core`) and the backends.

It holds only the operations that really differ between event loops; everything else
is built once, on top of it, in the front end. The front end validates arguments, so a
backend may assume them valid.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Coroutine, Mapping
from typing import Any, Callable, ClassVar, NoReturn, TypeVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .._core._cancel import CancelScope
    from .._core._limiter import CapacityLimiter
    from .._core._taskinfo import TaskInfo
    from .._core._tasks import TaskGroup
    from .._core._token import EventLoopToken, LoopCall
    from .._core._workers import WorkerJob

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

    # Every checkpoint reads these, and an instance slot is read faster than a class
    # attribute or a method: several percent of a checkpoint on uvloop (benchmarks/).
    __slots__ = ("checkpoint", "checkpoint_awaitable")
    #: Return an awaitable that is a checkpoint (a schedule point and a cancel point).
    checkpoint: Callable[[], Awaitable[None]]
    #: An awaitable that is a checkpoint each time it is awaited, shared by every
    #: call, or None; when there is one, checkpoints await it instead of calling
    #: :attr:`checkpoint`, which saves a call.
    checkpoint_awaitable: Awaitable[None] | None

    def __init__(
        self,
        checkpoint: Callable[[], Awaitable[None]],
        checkpoint_awaitable: Awaitable[None] | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.checkpoint_awaitable = checkpoint_awaitable

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
    def checkpoint_if_cancelled(self) -> Awaitable[None]: ...

    @abstractmethod
    def cancel_shielded_checkpoint(self) -> Awaitable[None]: ...

    @abstractmethod
    def cancelled_exc_class(self) -> type[BaseException]: ...

    # -- Cancel scopes and task groups: see anyrun._core._cancel and _tasks ----------

    @abstractmethod
    def create_cancel_scope(self, deadline: float, shield: bool) -> CancelScope:
        """A new, unentered scope; ``deadline`` is not NaN."""

    @abstractmethod
    def current_effective_deadline(self) -> float: ...

    @abstractmethod
    def create_task_group(self) -> TaskGroup: ...

    @abstractmethod
    def get_current_task(self) -> TaskInfo: ...

    @abstractmethod
    def get_running_tasks(self) -> list[TaskInfo]: ...

    @abstractmethod
    def wait_all_tasks_blocked(self) -> Awaitable[None]: ...

    # -- Threads: anyrun._core._token, _workers and _threads build on these ----------

    @abstractmethod
    def current_token(self) -> EventLoopToken:
        """The running loop's token: made on first use, the same for the whole run,
        and closed (``token._close()``) when the run ends."""

    @abstractmethod
    def start_call(self, call: LoopCall) -> None:
        """In the loop, in the call's context: run ``call.run_async()`` in a new task
        that nothing else cancels, and pass ``call.started()`` the callable that
        cancels it; complete the call with :exc:`RunFinishedError` if the loop can
        start no more tasks."""

    @abstractmethod
    def wait_for_worker(self, job: WorkerJob) -> Awaitable[None]:
        """Wait for a started job: set ``job.waiter`` and ``job.wake``, which
        ``job.finish()`` calls. On cancellation call ``job.cancel(raise_cancel)``; then
        raise at once if ``job.abandon_on_cancel``, or else wait on until
        ``job.finished`` and raise the cancellation after."""

    @abstractmethod
    def create_capacity_limiter(self, total_tokens: float) -> CapacityLimiter:
        """A limiter of (validated) ``total_tokens`` tokens."""

    @abstractmethod
    def default_thread_limiter(self) -> CapacityLimiter:
        """A new limiter of 40 tokens for the worker threads of a run."""
