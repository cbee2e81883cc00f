"""Task introspection, for tests and debugging."""

from __future__ import annotations

from ._dispatch import current_backend

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from typing import Any


class TaskInfo:
    """A snapshot of a task, as :func:`get_current_task` and :func:`get_running_tasks`
    return it. Two snapshots of the same task are equal.

    :ivar int id: an identifier of the task, unique among the running tasks
    :ivar parent_id: the identifier of the task that started it in a task group (or
        that called :meth:`TaskGroup.start() <anyrun.abc.TaskGroup.start>`), or
        ``None``
    :vartype parent_id: int | None
    :ivar str name: the name of the task
    :ivar coro: the coroutine object that the task runs

    .. versionadded:: 0.1
    """

    __slots__ = ("coro", "id", "name", "parent_id")

    def __init__(
        self, id: int, parent_id: int | None, name: str | None, coro: Any
    ) -> None:
        self.id = id
        self.parent_id = parent_id
        self.name = name
        self.coro = coro

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskInfo):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"TaskInfo(id={self.id!r}, name={self.name!r})"

    def has_pending_cancellation(self) -> bool:
        """Return whether the task has been cancelled and has not yet raised the
        cancellation exception (it raises at its next checkpoint)."""
        return False


def get_current_task() -> TaskInfo:
    """Return a snapshot of the current task. ::

        print(anyrun.get_current_task().name)

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return current_backend().get_current_task()


def get_running_tasks() -> list[TaskInfo]:
    """Return snapshots of every unfinished task of the event loop.

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return current_backend().get_running_tasks()


async def wait_all_tasks_blocked() -> None:
    """Wait until every other task of the event loop is blocked: waiting for
    something that has not happened yet, such as an event or a sleep.

    Tests use it to reach a known state without sleeping::

        async with anyrun.create_task_group() as tg:
            tg.start_soon(consumer, queue)
            await anyrun.wait_all_tasks_blocked()   # consumer waits on the queue now
            ...

    On asyncio, a task blocked on a future that a pending callback is about to resolve
    may count as blocked; a task that checkpoints in a loop never lets it return, as
    on trio.

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    await current_backend().wait_all_tasks_blocked()
