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
    _ABANDONED,
    _ACTIVE,
    _EXITED,
    _HAS_UNCANCEL,
    _MARK,
    AsyncioCancelScope,
    _armed,
    _cancelling,
    _pending,
    _scopes,
    _unscoped,
    current_task,
    effectively_cancelled,
    ensure_delivery,
    forget_task,
    make_open_group_scope,
    must_cancel_of,
    waiter_of,
)
from ._yield import YIELD_ONCE as _YIELD_ONCE

# Bound once: Python 3.11+ compile a method call on an imported name, such as
# "_scopes.get(task)", as an attribute load that makes a bound method each time.
_scope_of = _scopes.get
_pop_scope = _scopes.pop
_pending_of = _pending.get
_pop_pending = _pending.pop
_unscoped_of = _unscoped.get
_pop_unscoped = _unscoped.pop

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from exceptiongroup import BaseExceptionGroup
    from typing_extensions import Self


def _new_cancellation() -> CancelledError:
    return CancelledError(f"{_MARK}(of a task group's task)")


class AsyncioTaskGroup(TaskGroup):
    """A task group whose cancel scope is made when first needed.

    Most task groups that start no task are never cancelled either, and making and
    entering a scope would be most of what they cost. So, until a task is started or
    :attr:`cancel_scope` is used, the group only remembers where its scope belongs:
    its host task, and the innermost scope that exists around its block (``_outer``).
    When the scope is made, it takes that place in the host's chain of scopes, as if
    it had been entered with the block; nothing could have cancelled it before. Until
    then, its absence changes nothing: a scope that is not cancelled, not shielded and
    has no deadline has no effect on what is inside it. What was linked to its place
    meanwhile is relinked when it is made: the ``_parent`` of the outermost scope
    entered in the block that is still active, and the ``_outer`` of the groups
    entered in the block that have no scope yet (found through ``_unscoped``). The
    groups around it that have no scope get theirs first, outermost first, and
    ``TaskGroup.start()`` makes the caller's, as it records the caller's innermost
    scope. A started task's groups move with it (``_TaskStatus.started``), and a scope
    left while such a group is open in it makes the group's scope first, to see the
    misnesting (``make_open_group_scope``).
    """

    __slots__ = (
        "_baseline",
        "_cancelled",
        "_errors",
        "_host",
        "_loop",
        "_outer",
        "_outer_group",
        "_pending_starts",
        "_scope",
        "_waiter",
    )

    _scope: AsyncioCancelScope | None
    _loop: AbstractEventLoop
    #: Set on entry without a scope: the host task, the scope it was in, its count of
    #: native cancellations (the scope's _baseline), and the enclosing task group
    #: that had no scope then.
    _host: Task[Any] | None
    _outer: AsyncioCancelScope | None
    _baseline: int
    _outer_group: AsyncioTaskGroup | None
    #: The errors of the block and the children, made on the first.
    _errors: list[BaseException] | None
    #: Whether a child ended by a cancellation.
    _cancelled: bool
    #: What the host waits on in __aexit__, for the children and pending starts.
    _waiter: Future[None] | None
    _pending_starts: int

    def __init__(self) -> None:
        # The rest is set by __aenter__ or _make_scope(): a task group that needs no
        # scope needs none of it either.
        self._scope = None
        self._active = self._entered = False

    @property
    def cancel_scope(self) -> AsyncioCancelScope:
        return self._scope or self._make_scope()

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("A task group cannot be entered more than once")
        self._entered = True
        scope = self._scope
        if scope is not None:  # made before the block: enter it now
            scope.__enter__()
            assert scope._host is not None
            self._loop = scope._host.get_loop()
        else:
            task = current_task()
            if task is None:
                raise RuntimeError("a task group must be entered in a task")
            self._host = task
            self._outer = _scope_of(task)
            self._baseline = (
                _cancelling(task) - (_pending_of(task, 0) if _pending else 0)
                if _HAS_UNCANCEL
                else 0
            )
            self._outer_group = _unscoped_of(task)
            _unscoped[task] = self
        self._active = True
        return self

    def _make_scope(self) -> AsyncioCancelScope:
        if self._active:
            outer_group = self._outer_group
            if outer_group is not None and outer_group._scope is None:
                # Outermost first: that one may change self._outer.
                outer_group._make_scope()
        scope = self._scope = AsyncioCancelScope.create()
        self._cancelled = False
        self._errors = self._waiter = None
        self._pending_starts = 0
        if not self._entered:
            self._host = None  # __aenter__ enters the scope
            return scope
        if not self._active:
            scope._state = _EXITED
            return scope
        host = self._host
        assert host is not None
        outer = self._outer
        scope._host = host
        scope._parent = outer
        scope._baseline = self._baseline
        self._loop = host.get_loop()
        # The groups inside that have no scope yet now have this one around them.
        group = _unscoped_of(host)
        while group is not None and group is not self:
            if group._scope is None and group._outer is outer:
                group._outer = scope
            group = group._outer_group
        inner = _scope_of(host)
        if inner is outer:
            _scopes[host] = scope
            scope._state = _ACTIVE
            return scope
        while inner is not None and inner._parent is not outer:
            inner = inner._parent
        if inner is None:
            # The scope around the block was left first (see _exit_misnested).
            scope._state = _ABANDONED
        else:
            inner._parent = scope
            scope._state = _ACTIVE
        return scope

    def _spawn(
        self, func: object, coro: Coroutine[Any, Any, Any], name: object
    ) -> None:
        # Without a name, asyncio's own ("Task-1"); TaskInfo makes AnyIO's from the
        # coroutine when asked, which spares every spawn the cost of a string.
        scope = self._scope or self._make_scope()
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
        _pop_scope(task, None)
        if _pending:
            _pop_pending(task, None)
        if _unscoped:
            _pop_unscoped(task, None)
        scope = self._scope
        assert scope is not None
        children = scope._children
        assert children is not None
        children.discard(task)
        if task.cancelled():
            self._cancelled = True
            scope.cancel()
        else:
            exc = task.exception()
            if exc is not None:
                self._add_error(exc)
                scope.cancel()
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
            and self._scope is not None
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
        if scope is None and self._entered:  # entered without a scope, none made
            host = self._host
            assert host is not None
            outer_group = self._outer_group
            if exc is None and _scope_of(host) is self._outer:
                # The blocks inside have been left, and no task was started: there
                # is no scope to leave, only the chain of groups without one.
                innermost = _pop_unscoped(host)
                if innermost is self:
                    self._active = False
                    if outer_group is not None:
                        _unscoped[host] = outer_group
                    return False
                _unscoped[host] = innermost
            # An exception, or blocks left out of order: go on as if the scopes had
            # been there all along, those of the groups inside too.
            inner = _unscoped_of(host)
            if inner is not None and inner._scope is None:
                inner._make_scope()
            scope = self._scope or self._make_scope()
            self._unlink()
        elif scope is None:  # not entered: its scope's __exit__ says so
            scope = self._make_scope()
        elif self._host is not None:  # entered without a scope, made since
            self._unlink()
        if _unscoped:  # a group without a scope left open inside?
            make_open_group_scope(scope._host, scope)
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
                and _scope_of(task) is scope  # type: ignore[arg-type]
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

    def _unlink(self) -> None:
        """Take this group out of its host's chain of groups entered without a
        scope."""
        host = self._host
        group = _unscoped_of(host)  # type: ignore[arg-type]
        if group is self:
            if self._outer_group is None:
                del _unscoped[host]  # type: ignore[arg-type]
            else:
                _unscoped[host] = self._outer_group  # type: ignore[index]
            return
        while group is not None and group._outer_group is not self:
            group = group._outer_group
        if group is not None:  # left before a group inside it
            group._outer_group = self._outer_group

    def _new_task_status(self) -> _TaskStatus:
        return _TaskStatus(self)

    async def _start(
        self, coro: Coroutine[Any, Any, Any], status: Any, name: str
    ) -> Any:
        assert isinstance(status, _TaskStatus)
        caller = current_task()
        assert caller is not None
        # The caller's innermost scope is recorded below: make the scopes of its
        # task groups first, and this group's.
        unscoped = _unscoped_of(caller)
        if unscoped is not None and unscoped._scope is None:
            unscoped._make_scope()
        if self._scope is None:
            self._make_scope()
        base = _scope_of(caller)
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
        assert scope is not None
        unscoped = _unscoped_of(task)
        while unscoped is not None:  # its groups without a scope move with it
            if unscoped._scope is None and unscoped._outer is start_scope:
                unscoped._outer = scope
            unscoped = unscoped._outer_group
        inner = _scope_of(task)
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
        if must_cancel_of(task) or effectively_cancelled(_scope_of(task)):
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
    scope = _scope_of(task)
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


#: The tasks waiting in wait_all_tasks_blocked(): blocked, for each other, as on trio.
_waiting_for_blocked: set[Task[Any]] = set()


def _blocked(task: Task[Any]) -> bool:
    if task in _waiting_for_blocked:
        return True
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
    _waiting_for_blocked.add(this_task)
    try:
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
    finally:
        _waiting_for_blocked.discard(this_task)
