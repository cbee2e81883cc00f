"""Cancel scopes on asyncio, with trio's semantics.

The tree
    ``_scopes`` maps each task to its innermost active scope; every scope links to
    its parent, across tasks: the outermost scope of a task group's child is the task
    group's scope. Scopes remember the child tasks based on them (``_children``), so
    that cancelling a scope finds every task inside it. A task is *effectively
    cancelled* when, walking up from its innermost scope, a cancelled scope comes
    before a shielded one.

Delivery
    ``Task.cancel()`` makes the task's next ``await`` raise :exc:`CancelledError`,
    whatever it awaits: anyrun's checkpoints (bare yields, so they stay as fast as
    ``asyncio.sleep(0)``) and native futures alike. That raises once; cancellation is
    *level*-triggered, so after each delivery one callback (:func:`_recheck`) runs once
    the task has taken it, and cancels the task again if it is still effectively
    cancelled and waiting. Callbacks are scheduled only when something changes (a
    scope is cancelled, a deadline passes, a shield is left) and after each delivery:
    a task that sits in a shielded scope, or that has not yet reached its next
    checkpoint, costs nothing per loop iteration. (AnyIO retries on every iteration
    while a cancelled scope has tasks in it, which keeps a CPU busy: anyio#1111,
    anyio#1257.) A task is never cancelled while it runs, nor before its first step,
    so a new task in a cancelled scope runs up to its first checkpoint, as on trio.

Swallowing
    The scope that catches a cancellation is the cancelled one that sees no cancelled
    scope above it. It swallows only :exc:`CancelledError` raised for anyrun scopes
    (their message starts with :data:`_MARK`). On Python 3.11+ every delivery is
    counted and undone with ``Task.uncancel()`` by the catching scope, so
    ``asyncio.timeout()`` and ``asyncio.TaskGroup`` see only their own cancellations;
    and a ``Task.cancel()`` from elsewhere, which raises the count further, is never
    swallowed. (On 3.9 and 3.10, which have no count, one that arrives in the same
    loop iteration as a scope's cancellation may be taken for it.)
"""

# The fields of the scopes are private to users, not to the two modules of the
# asyncio backend that share the scope tree (this one and ._tasks).
# pyright: reportPrivateUsage=false

from __future__ import annotations

import sys
from asyncio import AbstractEventLoop, CancelledError, Future, Task, TimerHandle
from collections.abc import Callable
from operator import attrgetter
from typing import Any, cast
from weakref import WeakSet

from ..._core._cancel import CancelScope

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._tasks import AsyncioTaskGroup

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from exceptiongroup import BaseExceptionGroup
    from typing_extensions import Self

if sys.version_info >= (3, 12):
    from asyncio import current_task

    #: The current task of a given loop: the same, in C.
    current_task_in = current_task
else:
    # asyncio.current_task() is written in Python before 3.12; this is the same, from
    # two C calls. Finding the running loop costs a getpid() system call there, so
    # __exit__ asks for the current task of the scope's loop instead (a dict lookup).
    from asyncio.events import _get_running_loop
    from asyncio.tasks import _current_tasks  # type: ignore[attr-defined]

    current_task_in: Callable[[AbstractEventLoop], Task[Any] | None]
    current_task_in = _current_tasks.get  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]

    def current_task() -> Task[Any] | None:
        return current_task_in(_get_running_loop())  # type: ignore[arg-type]


_HAS_UNCANCEL = sys.version_info >= (3, 11)
if sys.version_info >= (3, 11):
    _cancelling = Task.cancelling
    _uncancel = Task.uncancel
else:

    def _cancelling(task: Task[Any]) -> int:
        return 0

    def _uncancel(task: Task[Any]) -> int:
        return 0


_INF = float("inf")

#: Every anyrun cancellation's message starts with it.
_MARK = "Cancelled by cancel scope "

# uvloop keeps timer delays as integer milliseconds and overflows on huge ones, so a
# far deadline is reached in steps of this size (about 11 days).
_MAX_TIMER_DELAY = 1e6

MISNESTING_ADVICE = """
This is probably a bug in your code: cancel scopes (and task groups) must be exited
in the task that entered them, innermost first. It typically comes from yielding
inside a generator that opened a cancel scope or task group, from calling __enter__
or __exit__ by hand, or from interleaving them with an ExitStack."""

# Scope states
_UNBOUND = 0
_ACTIVE = 1
_EXITED = 2
_ABANDONED = 3  # left open inside a scope that was exited first

# asyncio's own fields of a task: what it waits on, and whether it will be cancelled
# at its next step (set by a Task.cancel() while it is running or about to run).
waiter_of: Callable[[Task[Any]], Future[Any] | None] = attrgetter("_fut_waiter")
must_cancel_of: Callable[[Task[Any]], bool] = attrgetter("_must_cancel")

#: The innermost active scope of each task in a scope.
_scopes: dict[Task[Any], AsyncioCancelScope] = {}
#: Python 3.11+: the cancellations delivered to each task and not yet uncancelled.
_pending: dict[Task[Any], int] = {}
#: The tasks that have a _recheck() scheduled. Weak: a loop may close before it runs.
_armed: WeakSet[Task[Any]] = WeakSet()
#: The innermost active task group of each task that was entered without a scope of
#: its own (see ._tasks.AsyncioTaskGroup); each links to the next one out.
_unscoped: dict[Task[Any], AsyncioTaskGroup] = {}


class AsyncioCancelScope(CancelScope):
    __slots__ = (
        "_baseline",
        "_cancel_called",
        "_cancelled_caught",
        "_children",
        "_deadline",
        "_expired",
        "_host",
        "_parent",
        "_reason",
        "_shield",
        "_state",
        "_timer",
    )

    _host: Task[Any] | None
    _parent: AsyncioCancelScope | None
    _deadline: float
    _shield: bool
    _cancel_called: bool
    _cancelled_caught: bool
    _expired: bool
    _timer: TimerHandle | None
    _state: int
    #: Python 3.11+: the task's count of cancellations not made by anyrun, on entry.
    _baseline: int
    #: The tasks whose outermost scope this is: a task group's children, and the
    #: children of TaskGroup.start() in the caller's scope.
    _children: set[Task[Any]] | None
    _reason: str | None

    @classmethod
    def create(cls, deadline: float = _INF, shield: bool = False) -> AsyncioCancelScope:
        # Slots, all set here: setting attributes first on a scope being entered is
        # several times dearer on an instance with a __dict__.
        self = object.__new__(cls)
        self._host = self._parent = self._timer = self._children = self._reason = None
        self._deadline = deadline
        self._shield = shield
        self._cancel_called = self._cancelled_caught = self._expired = False
        self._state = _UNBOUND
        self._baseline = 0
        return self

    def __enter__(self) -> Self:
        if self._state:
            raise RuntimeError(
                "Each CancelScope may only be used for a single 'with' block"
            )
        task = current_task()
        if task is None:
            raise RuntimeError("a cancel scope must be entered in a task")
        self._host = task
        self._parent = _scopes.get(task)
        _scopes[task] = self
        self._state = _ACTIVE
        if _HAS_UNCANCEL:
            self._baseline = _cancelling(task) - (
                _pending.get(task, 0) if _pending else 0
            )
        if self._deadline != _INF and not self._cancel_called:
            self._arm_timer()
        if self._cancel_called:
            ensure_delivery(task)
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        task = self._host
        if _unscoped:
            make_open_group_scope(task, self)
        if (
            self._state != _ACTIVE
            or _scopes.get(task) is not self  # type: ignore[arg-type]
            or current_task_in(task.get_loop()) is not task  # type: ignore[union-attr]
        ):
            return self._exit_misnested(exc)
        assert task is not None
        self._state = _EXITED
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        parent = self._parent
        if parent is None:
            del _scopes[task]
        else:
            _scopes[task] = parent
        if self._cancel_called or self._shield:
            return self._exit_cancelled_or_shielded(task, exc)
        return False

    def _exit_cancelled_or_shielded(
        self, task: Task[Any], exc: BaseException | None
    ) -> bool:
        parent_cancelled = effectively_cancelled(self._parent)
        if parent_cancelled:
            # Leaving a shield, or letting the cancellation go on to the outer scope
            # that catches it: the task stays cancelled.
            ensure_delivery(task)
        if not self._cancel_called or (parent_cancelled and not self._shield):
            return False
        # This scope catches.
        native = False
        if _HAS_UNCANCEL:
            for _ in range(_pending.pop(task, 0)):
                _uncancel(task)
            native = _cancelling(task) > self._baseline
        if exc is None or native:
            return False
        if isinstance(exc, CancelledError):
            if not _is_ours(exc):
                return False
            self._cancelled_caught = True
            return True
        if isinstance(exc, BaseExceptionGroup):
            group = cast("BaseExceptionGroup[BaseException]", exc)
            matched, rest = group.split(_is_ours)
            if matched is None:
                return False
            self._cancelled_caught = True
            if rest is None:
                return True
            context = rest.__context__
            try:
                raise rest
            finally:
                # Python sets the context to the group being handled; keep the old one
                rest.__context__ = context
                del rest, context, exc
        return False

    def _exit_misnested(self, exc: BaseException | None) -> bool:
        if self._state == _ABANDONED:
            # An outer scope was exited first, and said so.
            self._state = _EXITED
            return False
        if self._state != _ACTIVE:
            raise _corrupted(
                f"attempted to exit {self!r} which had already been exited", exc
            )
        task = current_task()
        innermost = None if task is None else _scopes.get(task)
        scope = innermost
        while scope is not None and scope is not self:
            scope = scope._parent
        if task is not self._host or scope is None:
            if scope is None:
                raise _corrupted(
                    f"attempted to exit {self!r} from unrelated {task!r}", exc
                )
            raise _corrupted(
                f"attempted to exit {self!r} in {task!r} that's still within its "
                f"child {innermost!r}",
                exc,
            )
        # The task is still inside scopes opened in this one: abandon them, as trio
        # does, and leave this one.
        assert task is not None
        error = _corrupted(
            f"attempted to exit {self!r} in {task!r} that's still within its child "
            f"{innermost!r}",
            exc,
        )
        scope = innermost
        while scope is not self:
            assert scope is not None
            scope._state = _ABANDONED
            scope._stop_timer()
            scope = scope._parent
        self._state = _EXITED
        self._stop_timer()
        if self._parent is None:
            del _scopes[task]
        else:
            _scopes[task] = self._parent
        raise error

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm_timer(self) -> None:
        assert self._host is not None
        loop = self._host.get_loop()
        now = loop.time()
        if now >= self._deadline:
            self._expired = True
            self.cancel("deadline exceeded")
        else:
            self._timer = loop.call_at(
                min(self._deadline, now + _MAX_TIMER_DELAY), self._on_timer
            )

    def _on_timer(self) -> None:
        self._timer = None
        assert self._host is not None
        if self._deadline - self._host.get_loop().time() > 1.0:
            self._arm_timer()  # a step towards a far deadline
        else:
            # A timer may fire a little early by the loop's clock (uvloop counts
            # whole milliseconds); it fired for the deadline all the same.
            self._expired = True
            self.cancel("deadline exceeded")

    def cancel(self, reason: str | None = None) -> None:
        if self._cancel_called:
            return
        self._cancel_called = True
        self._reason = reason
        self._stop_timer()
        if self._state == _ACTIVE:
            for task in tasks_inside(self):
                ensure_delivery(task)

    @property
    def cancel_called(self) -> bool:
        if (
            not self._cancel_called
            and self._timer is not None
            and self._host is not None
            and self._host.get_loop().time() >= self._deadline
        ):
            # The deadline has passed and its timer has not fired yet (trio checks
            # the clock here too).
            self._on_timer()
        return self._cancel_called

    @property
    def cancelled_caught(self) -> bool:
        return self._cancelled_caught

    def _state_name(self) -> str:
        return ("unbound", "active", "exited", "exited")[self._state]

    def _get_deadline(self) -> float:
        return self._deadline

    def _set_deadline(self, value: float) -> None:
        self._deadline = value
        if self._state == _ACTIVE and not self._cancel_called:
            self._stop_timer()
            if value != _INF:
                self._arm_timer()

    def _get_shield(self) -> bool:
        return self._shield

    def _set_shield(self, value: bool) -> None:
        if self._shield == value:
            return
        self._shield = value
        if not value and self._state == _ACTIVE and effectively_cancelled(self._parent):
            for task in tasks_inside(self):
                ensure_delivery(task)

    def _timed_out(self) -> bool:
        if self._expired:
            return True
        task = self._host
        return task is not None and task.get_loop().time() >= self._deadline

    def _message(self) -> str:
        message = f"{_MARK}{id(self):#x}"
        if self._reason:
            message += f"; reason: {self._reason}"
        return message


def create_cancel_scope(deadline: float, shield: bool) -> AsyncioCancelScope:
    return AsyncioCancelScope.create(deadline, shield)


def _corrupted(what: str, exc: BaseException | None) -> RuntimeError:
    error = RuntimeError(f"Cancel scope stack corrupted: {what}\n{MISNESTING_ADVICE}")
    error.__context__ = exc
    return error


def _is_ours(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a cancellation raised for an anyrun scope. Some libraries
    replace a :exc:`CancelledError` with a new one, so look down the chain too."""
    while isinstance(exc, CancelledError):
        args = exc.args
        if args and isinstance(args[0], str) and args[0].startswith(_MARK):
            return True
        exc = exc.__context__
    return False


def effectively_cancelled(scope: AsyncioCancelScope | None) -> bool:
    """Whether a task whose innermost scope is ``scope`` must be cancelled."""
    while scope is not None:
        if scope._cancel_called:
            return True
        if scope._shield:
            return False
        scope = scope._parent
    return False


def cancelling_scope(scope: AsyncioCancelScope | None) -> AsyncioCancelScope | None:
    """The cancelled scope that makes ``scope`` effectively cancelled, if any."""
    while scope is not None:
        if scope._cancel_called:
            return scope
        if scope._shield:
            return None
        scope = scope._parent
    return None


def current_message(task: Task[Any]) -> str | None:
    """The message to raise in ``task`` if it is effectively cancelled, or None."""
    scope = cancelling_scope(_scopes.get(task))
    return None if scope is None else scope._message()


def tasks_inside(top: AsyncioCancelScope) -> set[Task[Any]]:
    """The tasks that ``top`` contains with no shielded scope in between."""
    found: set[Task[Any]] = set()
    todo: list[tuple[Task[Any], AsyncioCancelScope]] = []
    if top._children:
        todo.extend((child, top) for child in top._children)
    if top._host is not None:
        todo.append((top._host, top))
    while todo:
        task, base = todo.pop()
        chain: list[AsyncioCancelScope] = []
        scope = _scopes.get(task)
        while scope is not None and scope is not base:
            chain.append(scope)
            scope = scope._parent
        if scope is None:
            continue  # not inside any more
        for scope in reversed(chain):
            if scope._shield:
                break
            if scope._children:
                todo.extend((child, scope) for child in scope._children)
        else:
            found.add(task)
    return found


def ensure_delivery(task: Task[Any]) -> None:
    """See to it that ``task``, which may be effectively cancelled, gets cancelled
    at its next checkpoint, and at every one after it while it stays so."""
    if task in _armed:
        return
    _armed.add(task)
    waiter = waiter_of(task)
    if waiter is not None and not waiter.done():
        # Blocked (so not running, and started): cancel it now.
        _deliver(task)
    task.get_loop().call_soon(_recheck, task)


def _deliver(task: Task[Any]) -> None:
    message = current_message(task)
    if message is None:
        return
    task.cancel(message)
    if _HAS_UNCANCEL:
        _pending[task] = _pending.get(task, 0) + 1


def _recheck(task: Task[Any]) -> None:
    """Runs after the task took its last delivery (or the state changed): deliver
    again if the task is still effectively cancelled."""
    _armed.discard(task)
    if task.done() or not effectively_cancelled(_scopes.get(task)):
        return
    waiter = waiter_of(task)
    if not must_cancel_of(task) and (waiter is None or not waiter.done()):
        # Waiting on a future, or about to run after a bare yield: either way, its
        # next step raises.
        _deliver(task)
    # else a cancellation or a wake-up is already on its way to the task: deliver
    # after it arrived (its result is not lost), at the latest in an iteration or two.
    _armed.add(task)
    task.get_loop().call_soon(_recheck, task)


def current_effective_deadline() -> float:
    task = current_task()
    scope = None if task is None else _scopes.get(task)
    deadline = _INF
    while scope is not None:
        if scope._cancel_called:
            return -_INF
        if scope._deadline < deadline:
            deadline = scope._deadline
        if scope._shield:
            break
        scope = scope._parent
    return deadline


def make_open_group_scope(task: Task[Any] | None, scope: AsyncioCancelScope) -> None:
    """Before ``scope`` is left: a task group entered in it without a scope of its own,
    and still open, is a scope left open in it. Make its scope, so that the misnesting
    is seen and handled as for any scope."""
    group = _unscoped.get(task)  # type: ignore[arg-type]
    if group is not None and group._scope is None and group._outer is scope:
        group._make_scope()


def forget_task(task: Task[Any]) -> None:
    """Drop what is kept about a finished task."""
    _scopes.pop(task, None)
    if _pending:
        _pending.pop(task, None)
    if _unscoped:  # a task group left open
        _unscoped.pop(task, None)
