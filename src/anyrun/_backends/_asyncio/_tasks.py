"""Task groups and task introspection on asyncio, with trio's semantics.

A child task is made straight from the user's coroutine (no wrapper coroutine, no
per-step cost) and based on the task group's scope in :data:`._cancel._scopes`; a done
callback collects its outcome. The host waits for the children in ``__aexit__``
without being cancellable by anyrun scopes, as trio's nursery does: the children are
cancelled instead, and their cancellations come out of the task group once they have
all finished. A native ``Task.cancel()`` of the host is passed on the same way, and
re-raised after.
"""

# pyright: reportPrivateUsage=false
# (see ._cancel)

from __future__ import annotations

import sys
from asyncio import (
    AbstractEventLoop,
    CancelledError,
    Future,
    Task,
    all_tasks,
)
from collections.abc import Coroutine
from typing import Any

from ..._core._taskinfo import TaskInfo
from ..._core._tasks import TaskGroup, group_errors
from ._cancel import (
    _ACTIVE,
    _EXITED,
    _HAS_UNCANCEL,
    _INF,
    _MARK,
    AsyncioCancelScope,
    _armed,
    _cancelling,
    _pending,
    _scopes,
    current_task,
    effectively_cancelled,
    ensure_delivery,
    forget_task,
    must_cancel_of,
    waiter_of,
)

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from exceptiongroup import BaseExceptionGroup
    from typing_extensions import Self


class _YieldOnce:
    __slots__ = ()
    __await__ = (None,).__iter__


_YIELD_ONCE: Any = _YieldOnce()


def _new_cancellation() -> CancelledError:
    return CancelledError(f"{_MARK}(of a task group's task)")


class AsyncioTaskGroup(TaskGroup):
    __slots__ = (
        "_cancelled",
        "_errors",
        "_loop",
        "_pending_starts",
        "_scope",
        "_waiter",
    )

    #: The same as cancel_scope, with its type.
    _scope: AsyncioCancelScope
    _loop: AbstractEventLoop
    #: The errors of the block and the children, made on the first.
    _errors: list[BaseException] | None
    #: Whether a child ended by a cancellation.
    _cancelled: bool
    #: What the host waits on in __aexit__, for the children and pending starts.
    _waiter: Future[None] | None
    _pending_starts: int

    def __init__(self) -> None:
        self.cancel_scope = self._scope = AsyncioCancelScope.create()
        self._active = self._entered = self._cancelled = False
        self._errors = self._waiter = None
        self._pending_starts = 0

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("A task group cannot be entered more than once")
        self._entered = True
        scope = self._scope
        if scope._state or scope._cancel_called or scope._deadline != _INF:
            scope.__enter__()
            task = scope._host
            assert task is not None
        else:
            # scope.__enter__() for a scope with no deadline, not cancelled: inlined,
            # because it is most of the cost of a task group that starts no task.
            task = current_task()
            if task is None:
                raise RuntimeError("a task group must be entered in a task")
            scope._host = task
            scope._parent = _scopes.get(task)
            _scopes[task] = scope
            scope._state = _ACTIVE
            if _HAS_UNCANCEL:
                scope._baseline = _cancelling(task) - (
                    _pending.get(task, 0) if _pending else 0
                )
        self._loop = task.get_loop()
        self._active = True
        return self

    def _spawn(
        self, func: object, coro: Coroutine[Any, Any, Any], name: object
    ) -> None:
        # Without a name, asyncio's own ("Task-1"); TaskInfo makes AnyIO's from the
        # coroutine when asked, which spares every spawn the cost of a string.
        scope = self._scope
        if name is None:
            task = self._loop.create_task(coro)
        else:
            task = self._loop.create_task(coro, name=str(name))
        _scopes[task] = scope
        children = scope._children
        if children is None:
            children = scope._children = set()
        children.add(task)
        task.add_done_callback(self._task_done)
        parent = scope._parent
        if scope._cancel_called or (
            parent is not None and not scope._shield and effectively_cancelled(parent)
        ):
            ensure_delivery(task)

    def _task_done(self, task: Task[Any]) -> None:
        # forget_task(), inlined
        _scopes.pop(task, None)
        if _pending:
            _pending.pop(task, None)
        children = self._scope._children
        assert children is not None
        children.discard(task)
        if task.cancelled():
            self._cancelled = True
            self._scope.cancel()
        else:
            exc = task.exception()
            if exc is not None:
                self._add_error(exc)
                self._scope.cancel()
        if not children:
            self._wake_host()

    def _add_error(self, exc: BaseException) -> None:
        if self._errors is None:
            self._errors = []
        self._errors.append(exc)

    def _wake_host(self) -> None:
        waiter = self._waiter
        if (
            waiter is not None
            and not self._scope._children
            and not self._pending_starts
            and not waiter.done()
        ):
            waiter.set_result(None)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: object,
    ) -> bool:
        scope = self._scope
        if (
            exc is None
            and not scope._children
            and not self._pending_starts
            and not self._cancelled
            and self._errors is None
        ):
            # Nothing ran, or everything has ended well. No schedule point, like
            # asyncio.TaskGroup (unlike trio's nursery); see docs/differences.rst.
            self._active = False
            task = scope._host
            if (
                not scope._cancel_called
                and not scope._shield
                and scope._timer is None
                and scope._state == _ACTIVE
                and _scopes.get(task) is scope  # type: ignore[arg-type]
            ):
                # scope.__exit__(None, None, None) for such a scope, inlined. (An
                # "async with" block ends in the task that began it, and the scope is
                # still the task's innermost: the rest of __exit__'s checks are moot.)
                scope._state = _EXITED
                parent = scope._parent
                if parent is None:
                    del _scopes[task]  # type: ignore[arg-type]
                else:
                    _scopes[task] = parent  # type: ignore[index]
                return False
            return scope.__exit__(None, None, None)
        cancellation: BaseException | None = None
        if exc is not None:
            if isinstance(exc, CancelledError):
                cancellation = exc
            else:
                self._add_error(exc)
            scope.cancel()
        if scope._children or self._pending_starts:
            # trio's nursery waits for its children without being cancellable: they
            # are cancelled instead. Only a native Task.cancel() gets through.
            with AsyncioCancelScope.create(shield=True):
                while scope._children or self._pending_starts:
                    self._waiter = self._loop.create_future()
                    try:
                        await self._waiter
                    except CancelledError as native:
                        cancellation = native
                        scope.cancel()
                self._waiter = None
        self._active = False
        if cancellation is None and self._cancelled:
            cancellation = _new_cancellation()
        errors = self._errors or []
        self._errors = None
        raised: BaseException | None
        if errors:
            if cancellation is not None:
                # Kept in the group for the scope that catches it, as on trio.
                errors.append(cancellation)
            raised = group_errors(errors)
        else:
            raised = cancellation
        try:
            if raised is None:
                return scope.__exit__(None, None, None)
            if scope.__exit__(type(raised), raised, raised.__traceback__):
                return True
            if raised is exc:
                return False
            if isinstance(raised, BaseExceptionGroup):
                raise raised from None  # its errors say it all
            raise raised
        finally:
            del exc, raised, cancellation, errors

    def _new_task_status(self) -> _TaskStatus:
        return _TaskStatus(self)

    async def _start(
        self, coro: Coroutine[Any, Any, Any], status: Any, name: str
    ) -> Any:
        assert isinstance(status, _TaskStatus)
        caller = current_task()
        assert caller is not None
        base = _scopes.get(caller)
        # The new task runs in the caller's scope until it has started; this scope,
        # which nothing enters, lets start() cancel it alone.
        start_scope = AsyncioCancelScope.create()
        start_scope._state = _ACTIVE
        start_scope._host = caller
        start_scope._parent = base
        status._scope = start_scope
        task = self._loop.create_task(coro, name=name)
        status._task = task
        _scopes[task] = start_scope
        start_scope._children = {task}
        if base is not None:
            # So that cancelling the caller's scopes finds the task too.
            if base._children is None:
                base._children = set()
            base._children.add(task)
        task.add_done_callback(status._task_done)
        if effectively_cancelled(base):
            ensure_delivery(task)
        native: BaseException | None = None
        self._pending_starts += 1
        try:
            with AsyncioCancelScope.create(shield=True):
                while not status._finished:
                    status._waiter = self._loop.create_future()
                    try:
                        await status._waiter
                    except CancelledError as exc:  # a native Task.cancel()
                        native = exc
                        start_scope.cancel()
        finally:
            self._pending_starts -= 1
            self._wake_host()
        try:
            if native is not None:
                raise native
            if status._error is not None:
                raise status._error
            if not status._started:
                raise RuntimeError("child exited without calling task_status.started()")
            return status._value
        finally:
            del native, status


class _TaskStatus:
    """The ``task_status`` of :meth:`AsyncioTaskGroup.start`."""

    __slots__ = (
        "_error",
        "_finished",
        "_group",
        "_moved",
        "_scope",
        "_started",
        "_task",
        "_value",
        "_waiter",
    )

    _scope: AsyncioCancelScope
    _task: Task[Any]
    _waiter: Future[None] | None
    _error: BaseException | None

    def __init__(self, group: AsyncioTaskGroup) -> None:
        self._group = group
        self._started = self._moved = self._finished = False
        self._value: object = None
        self._waiter = None
        self._error = None

    def __repr__(self) -> str:
        return f"<task status object at {id(self):#x}>"

    def started(self, value: object = None) -> None:
        if self._started:
            raise RuntimeError("called 'started' twice on the same task status")
        self._started = True
        self._value = value
        start_scope = self._scope
        if effectively_cancelled(start_scope):
            # As on trio: a task cancelled in the caller's scope stays there, and
            # start() waits for it to end.
            return
        # Move the task into the task group, as if started with start_soon().
        task = self._task
        group = self._group
        scope = group._scope
        inner = _scopes.get(task)
        if inner is start_scope:
            _scopes[task] = scope
        else:
            while inner is not None and inner._parent is not start_scope:
                inner = inner._parent
            if inner is not None:
                inner._parent = scope
        self._leave_caller()
        if scope._children is None:
            scope._children = set()
        scope._children.add(task)
        self._moved = True
        task.remove_done_callback(self._task_done)
        task.add_done_callback(group._task_done)
        if effectively_cancelled(scope):
            ensure_delivery(task)
        self._finish()

    def _task_done(self, task: Task[Any]) -> None:
        """The task ended before it moved into the task group."""
        forget_task(task)
        self._leave_caller()
        if task.cancelled():
            self._error = _new_cancellation()
        else:
            self._error = task.exception()
        self._finish()

    def _leave_caller(self) -> None:
        start_scope = self._scope
        base = start_scope._parent
        if base is not None and base._children is not None:
            base._children.discard(self._task)
        start_scope._children = None
        start_scope._state = _EXITED

    def _finish(self) -> None:
        self._finished = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


# -- Introspection ----------------------------------------------------------------


class AsyncioTaskInfo(TaskInfo):
    __slots__ = ("_task",)

    def __init__(self, task: Task[Any]) -> None:
        parent_id = _parent_id(task)
        coro = task.get_coro()
        name = task.get_name()
        if parent_id is not None and name.startswith("Task-") and name[5:].isdigit():
            # Started without a name: AnyIO's (and trio's), from the coroutine.
            name = _coro_name(coro) or name
        super().__init__(id(task), parent_id, name, coro)
        self._task = task

    def has_pending_cancellation(self) -> bool:
        task = self._task
        if task.done():
            return False
        if must_cancel_of(task) or effectively_cancelled(_scopes.get(task)):
            return True
        waiter = waiter_of(task)
        return waiter is not None and waiter.cancelled()


def _coro_name(coro: object) -> str | None:
    qualname: str | None = getattr(coro, "__qualname__", None)
    frame = getattr(coro, "cr_frame", None)
    module = None if frame is None else frame.f_globals.get("__name__")
    if qualname is None:
        return None
    return f"{module}.{qualname}" if module else qualname


def _parent_id(task: Task[Any]) -> int | None:
    """The task that started this one, from its outermost scope: a task group's, or
    TaskGroup.start()'s in the caller."""
    scope = _scopes.get(task)
    while scope is not None and scope._host is task:
        scope = scope._parent
    return None if scope is None or scope._host is None else id(scope._host)


def get_current_task() -> TaskInfo:
    task = current_task()
    if task is None:
        raise RuntimeError("this needs to run in a task, not in a bare callback")
    return AsyncioTaskInfo(task)


def get_running_tasks() -> list[TaskInfo]:
    return [AsyncioTaskInfo(task) for task in all_tasks() if not task.done()]


def _blocked(task: Task[Any]) -> bool:
    waiter = waiter_of(task)
    return waiter is not None and not waiter.done()


def _delivering(loop: AbstractEventLoop) -> bool:
    """Whether a cancellation is on its way to a task of ``loop``."""
    return any(task.get_loop() is loop and not task.done() for task in list(_armed))


async def wait_all_tasks_blocked() -> None:
    this_task = current_task()
    assert this_task is not None
    loop = this_task.get_loop()
    quiet = 0
    while quiet < 2:
        # Twice in a row, so that the callbacks of the last iteration (such as a
        # future's, which wakes its task) have run too.
        await _YIELD_ONCE
        if not _delivering(loop) and all(
            task is this_task or _blocked(task) for task in all_tasks()
        ):
            quiet += 1
        else:
            quiet = 0
