"""Task groups and task introspection on trio: thin wrappers of trio's nursery."""

from __future__ import annotations

import math
import sys
from collections.abc import Awaitable, Coroutine
from typing import Any, cast

import trio

from ..._core._taskinfo import TaskInfo
from ..._core._tasks import TaskGroup, group_errors, task_name
from ._cancel import TrioCancelScope

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from exceptiongroup import BaseExceptionGroup
    from typing_extensions import Self


def _identity(coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
    # trio calls this to make the task's coroutine: the front end made it already.
    return coro


class TrioTaskGroup(TaskGroup):
    __slots__ = ("_manager", "_nursery", "_scope")

    _nursery: trio.Nursery
    _scope: TrioCancelScope | None

    def __init__(self) -> None:
        self._active = self._entered = False
        self._scope = None

    @property
    def cancel_scope(self) -> TrioCancelScope:
        if self._scope is None:
            # Used before the block: a scope of its own until the nursery's exists,
            # which then takes its settings (see __aenter__).
            self._scope = TrioCancelScope.create(math.inf, False)
        return self._scope

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("A task group cannot be entered more than once")
        early = self._scope
        if early is not None and early._state != "unbound":  # pyright: ignore[reportPrivateUsage]
            raise RuntimeError(
                "Each CancelScope may only be used for a single 'with' block"
            )
        self._entered = True
        self._manager = manager = trio.open_nursery(strict_exception_groups=True)
        self._nursery = nursery = await manager.__aenter__()
        if early is None:
            self._scope = TrioCancelScope.wrap(nursery.cancel_scope)
        else:
            early.adopt(nursery.cancel_scope)
        self._active = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: Any,
    ) -> bool:
        try:
            return bool(await self._manager.__aexit__(exc_type, exc, tb))
        except BaseExceptionGroup as group:
            cancelled, errors = group.split(trio.Cancelled)
            if errors is None:
                # Only cancellations: raise one of them itself, as AnyIO does.
                assert cancelled is not None
                raise _first_leaf(cancelled) from None
            if errors.subgroup((KeyboardInterrupt, SystemExit)) is not None:
                raise group_errors(_leaves(errors)) from None
            raise
        finally:
            self._active = False
            if self._scope is not None:
                self._scope._state = "exited"  # pyright: ignore[reportPrivateUsage]
            del exc, tb

    def _spawn(
        self, func: object, coro: Coroutine[Any, Any, Any], name: object
    ) -> None:
        self._nursery.start_soon(_identity, coro, name=task_name(func, name))

    def _new_task_status(self) -> _TaskStatus:
        return _TaskStatus()

    async def _start(
        self, coro: Coroutine[Any, Any, Any], status: Any, name: str
    ) -> Any:
        assert isinstance(status, _TaskStatus)

        def make_coro(*, task_status: trio.TaskStatus[Any]) -> Coroutine[Any, Any, Any]:
            status._real = task_status  # pyright: ignore[reportPrivateUsage]
            return coro

        return await self._nursery.start(make_coro, name=name)


class _TaskStatus:
    """The ``task_status`` of :meth:`TrioTaskGroup.start`: made before trio's, which
    exists once trio starts the task, and forwarding to it."""

    __slots__ = ("_real",)

    _real: trio.TaskStatus[Any]

    def __repr__(self) -> str:
        return f"<task status object at {id(self):#x}>"

    def started(self, value: object = None) -> None:
        self._real.started(value)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        group = cast("BaseExceptionGroup[BaseException]", exc)
        return [leaf for each in group.exceptions for leaf in _leaves(each)]
    return [exc]


def _first_leaf(exc: BaseException) -> BaseException:
    return _leaves(exc)[0]


# -- Introspection ----------------------------------------------------------------


class TrioTaskInfo(TaskInfo):
    __slots__ = ("_task",)

    def __init__(self, task: trio.lowlevel.Task) -> None:
        nursery = task.parent_nursery
        parent = None if nursery is None else nursery.parent_task
        super().__init__(
            id(task), None if parent is None else id(parent), task.name, task.coro
        )
        self._task = task

    def has_pending_cancellation(self) -> bool:
        status = self._task._cancel_status  # pyright: ignore[reportPrivateUsage]
        return status.effectively_cancelled


def get_current_task() -> TaskInfo:
    return TrioTaskInfo(trio.lowlevel.current_task())


def get_running_tasks() -> list[TaskInfo]:
    found: list[TaskInfo] = []
    pending = [trio.lowlevel.current_root_task()]
    while pending:
        task = pending.pop()
        if task is None:
            continue
        found.append(TrioTaskInfo(task))
        for nursery in task.child_nurseries:
            pending.extend(nursery.child_tasks)
    return found


def wait_all_tasks_blocked() -> Awaitable[None]:
    import trio.testing

    return trio.testing.wait_all_tasks_blocked()
