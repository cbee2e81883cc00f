"""Abstract classes, for type annotations: what :func:`anyrun.create_task_group`
returns, and what :meth:`TaskGroup.start` passes as ``task_status``."""

from __future__ import annotations

from typing import Protocol, TypeVar, overload

from ._core._tasks import TaskGroup as TaskGroup
from ._core._util import fixup_module_metadata

__all__ = (
    "TaskGroup",
    "TaskStatus",
)

T_contra = TypeVar("T_contra", contravariant=True)


class TaskStatus(Protocol[T_contra]):
    """The ``task_status`` that :meth:`TaskGroup.start` passes to its function; its
    type argument is the type of the value passed to :meth:`started`. ::

        async def serve(
            port: int, *, task_status: TaskStatus[int] = anyrun.TASK_STATUS_IGNORED
        ) -> None:
            ...
            task_status.started(listener.port)

    .. versionadded:: 0.1
    """

    @overload
    def started(self: TaskStatus[None]) -> None: ...

    @overload
    def started(self, value: T_contra) -> None: ...

    def started(self, value: T_contra | None = None) -> None:
        """Say that the task has started: :meth:`TaskGroup.start` returns ``value``
        and the task moves into the task group.

        :raises RuntimeError: if called twice
        """


fixup_module_metadata(__name__, globals())
del fixup_module_metadata
