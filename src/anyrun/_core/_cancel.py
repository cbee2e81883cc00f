"""The public face of cancel scopes and timeouts; the backends hold the scopes
themselves (on trio, wrappers of :class:`trio.CancelScope`)."""

from __future__ import annotations

from ._dispatch import cached_backend, current_backend, detect_backend

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from types import TracebackType

    from typing_extensions import Self

_INF = float("inf")


def check_deadline(deadline: float) -> float:
    """Validate a deadline the same way on every backend, with trio's words."""
    if deadline != deadline:
        raise ValueError("deadline must not be NaN")
    return deadline


class CancelScope:
    """A unit of work that can be cancelled, together with everything it runs.

    Inside the ``with`` block, a cancelled scope raises the backend's cancellation
    exception (see :func:`get_cancelled_exc_class`) at *every* checkpoint, until the
    block is left; the scope then swallows that exception. Scopes nest: cancelling
    one cancels everything inside it, including the tasks of task groups opened inside
    it, unless a scope in between is *shielded*. ::

        with anyrun.CancelScope() as scope:
            tg.start_soon(watchdog, scope)   # may call scope.cancel()
            await do_work()
        if scope.cancelled_caught:
            print("the work was cancelled")

    A scope can be used for one ``with`` block only. It can be cancelled before that
    block starts, and then the block's first checkpoint raises. On asyncio, the native
    cancellation of the task (``Task.cancel()``) passes through every scope, shielded
    or not, and is never swallowed by one; see :doc:`cancellation`.

    On trio it wraps a :class:`trio.CancelScope`.

    :param deadline: the time, on the clock of :func:`current_time`, at which the scope
        cancels itself; :data:`math.inf` for none
    :param shield: whether to protect the block from the cancellation of the scopes
        around it
    :raises ValueError: if ``deadline`` is NaN
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """

    __slots__ = ("__weakref__",)

    def __new__(cls, *, deadline: float = _INF, shield: bool = False) -> CancelScope:
        check_deadline(deadline)
        return current_backend().create_cancel_scope(deadline, bool(shield))

    def __init__(self, *, deadline: float = _INF, shield: bool = False) -> None:
        pass  # set up by __new__, which returns the backend's scope

    def __repr__(self) -> str:
        state = self._state_name()
        if self.cancel_called:
            state += ", cancelled"
        elif self.deadline != _INF:
            state += f", deadline {self.deadline!r}"
        return f"<anyrun.CancelScope at {id(self):#x}, {state}>"

    def __enter__(self) -> Self:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        """Leave the scope; swallow the cancellation exception it raised itself.

        :raises RuntimeError: if the scope is not the innermost one of the current
            task, with trio's message (``Cancel scope stack corrupted: ...``)
        """
        raise NotImplementedError

    def cancel(self, reason: str | None = None) -> None:
        """Cancel this scope now, and everything inside it that is not shielded.

        Calling it again, or after the scope has been left, does nothing.

        :param reason: words for the message of the cancellation exception
        """
        raise NotImplementedError

    @property
    def cancel_called(self) -> bool:
        """Whether :meth:`cancel` has been called, or the deadline has passed."""
        raise NotImplementedError

    @property
    def cancelled_caught(self) -> bool:
        """Whether this scope swallowed a cancellation exception that it raised itself.

        This is ``False`` after a cancellation by an outer scope, which swallows it.
        """
        raise NotImplementedError

    @property
    def deadline(self) -> float:
        """The time, on the clock of :func:`current_time`, at which the scope cancels
        itself: :data:`math.inf` for none. It can be moved at any time; a deadline
        that has already passed cancels the scope at once.

        :raises ValueError: when set to NaN
        """
        return self._get_deadline()

    @deadline.setter
    def deadline(self, value: float) -> None:
        self._set_deadline(check_deadline(float(value)))

    @property
    def shield(self) -> bool:
        """Whether the block is protected from the cancellation of outer scopes. It
        can be changed at any time.

        :raises TypeError: when set to anything but a :class:`bool`
        """
        return self._get_shield()

    @shield.setter
    def shield(self, value: bool) -> None:
        if not isinstance(value, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
            # trio's check and words
            raise TypeError("shield must be a bool")
        self._set_shield(value)

    # The backend's part.

    def _state_name(self) -> str:
        raise NotImplementedError

    def _get_deadline(self) -> float:
        raise NotImplementedError

    def _set_deadline(self, value: float) -> None:
        raise NotImplementedError

    def _get_shield(self) -> bool:
        raise NotImplementedError

    def _set_shield(self, value: bool) -> None:
        raise NotImplementedError

    def _timed_out(self) -> bool:
        """Whether the deadline has passed, by the clock the deadline fired on."""
        raise NotImplementedError


def move_on_at(deadline: float | None, shield: bool = False) -> CancelScope:
    """Return a cancel scope that cancels itself at ``deadline``: the block is
    abandoned when the deadline passes, and the program moves on after it. ::

        with anyrun.move_on_at(anyrun.current_time() + 5) as scope:
            await fetch()
        if scope.cancelled_caught:
            print("gave up")

    :param deadline: the time, on the clock of :func:`current_time`; ``None`` for no
        deadline
    :param shield: whether to protect the block from the cancellation of outer scopes
    :raises ValueError: if ``deadline`` is NaN
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    backend = cached_backend() or detect_backend()
    if deadline is None:
        deadline = _INF
    return backend.create_cancel_scope(check_deadline(deadline), shield)


def move_on_after(delay: float | None, shield: bool = False) -> CancelScope:
    """Return a cancel scope that cancels itself ``delay`` seconds from now (not from
    the start of the ``with`` block, as in AnyIO). These two lines are equivalent::

        with anyrun.move_on_after(5): ...
        with anyrun.move_on_at(anyrun.current_time() + 5): ...

    A negative delay gives a scope that is cancelled from the start.

    :param delay: the number of seconds; ``None`` for no deadline
    :param shield: whether to protect the block from the cancellation of outer scopes
    :raises ValueError: if ``delay`` is NaN
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    backend = cached_backend() or detect_backend()
    deadline = _INF if delay is None else backend.current_time() + delay
    return backend.create_cancel_scope(check_deadline(deadline), shield)


class _FailAfter:
    """The context manager of :func:`fail_at` and :func:`fail_after`: a cancel scope
    that turns its own timeout into :exc:`TimeoutError`."""

    __slots__ = ("_reason", "_scope")

    def __init__(self, scope: CancelScope, reason: str | None) -> None:
        self._scope = scope
        self._reason = reason

    def __enter__(self) -> CancelScope:
        return self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        scope = self._scope
        swallowed = scope.__exit__(exc_type, exc_val, exc_tb)
        if scope.cancelled_caught and scope._timed_out():  # pyright: ignore[reportPrivateUsage]
            reason = self._reason
            raise (TimeoutError(reason) if reason else TimeoutError()) from exc_val
        return swallowed


def fail_at(
    deadline: float | None, shield: bool = False, reason: str | None = None
) -> AbstractContextManager[CancelScope]:
    """Return a context manager that raises :exc:`TimeoutError` if its block has not
    finished at ``deadline``. Its ``with`` statement gives the cancel scope::

        with anyrun.fail_at(anyrun.current_time() + 5):
            await fetch()   # TimeoutError after 5 seconds

    The :exc:`TimeoutError` is raised only when the scope's own deadline cancelled the
    block: a call to :meth:`CancelScope.cancel` just ends the block, as with
    :func:`move_on_at`.

    :param deadline: the time, on the clock of :func:`current_time`; ``None`` for no
        deadline
    :param shield: whether to protect the block from the cancellation of outer scopes
    :param reason: the message of the :exc:`TimeoutError`
    :raises ValueError: if ``deadline`` is NaN
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return _FailAfter(move_on_at(deadline, shield), reason)


def fail_after(
    delay: float | None, shield: bool = False, reason: str | None = None
) -> AbstractContextManager[CancelScope]:
    """Return a context manager that raises :exc:`TimeoutError` if its block has not
    finished ``delay`` seconds from now. These two lines are equivalent::

        with anyrun.fail_after(5): ...
        with anyrun.fail_at(anyrun.current_time() + 5): ...

    :param delay: the number of seconds; ``None`` for no deadline
    :param shield: whether to protect the block from the cancellation of outer scopes
    :param reason: the message of the :exc:`TimeoutError`
    :raises ValueError: if ``delay`` is NaN
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return _FailAfter(move_on_after(delay, shield), reason)


def current_effective_deadline() -> float:
    """Return the nearest deadline of the cancel scopes that can cancel the current
    task: :data:`math.inf` if none has a deadline, and ``-math.inf`` if one of them is
    cancelled already. A shielded scope hides the deadlines of the scopes around it.
    ::

        remaining = anyrun.current_effective_deadline() - anyrun.current_time()

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return current_backend().current_effective_deadline()
