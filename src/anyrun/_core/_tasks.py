"""The public face of task groups; the backends hold the task groups themselves (on
trio, wrappers of a nursery)."""

from __future__ import annotations

from ._coroutines import CoroutineType, call_async_function
from ._dispatch import cached_backend, detect_backend

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from types import TracebackType
    from typing import Any

    from typing_extensions import Self, TypeVarTuple, Unpack

    from ..abc import TaskStatus
    from ._cancel import CancelScope

    PosArgsT = TypeVarTuple("PosArgsT")


NOT_ACTIVE = "This task group is not active; no new tasks can be started."


class _Made:
    """Stands for a function that has been called once already: it returns what
    the call returned, under the function's name, so that
    :func:`call_async_function` words its error without calling it again."""

    __slots__ = ("__name__", "_result")

    def __init__(self, func: object, result: object) -> None:
        self.__name__ = getattr(func, "__name__", None) or type(func).__name__
        self._result = result

    def __call__(self) -> Any:
        return self._result


def coroutine_of(
    caller: str, func: Any, args: tuple[Any, ...], task_status: Any = None
) -> Coroutine[Any, Any, Any]:
    """Call ``func(*args)`` (with ``task_status=`` for :meth:`TaskGroup.start`) and
    return the coroutine it makes, or raise the :exc:`TypeError` of
    :func:`call_async_function`, which shows the call that was meant."""
    if callable(func):
        coro = (
            func(*args) if task_status is None else func(*args, task_status=task_status)
        )
        if type(coro) is CoroutineType:
            return coro
        func, args = _Made(func, coro), ()
    return call_async_function(caller, func, args)


def task_name(func: object, name: object) -> str:
    """The name of a new task, as trio and AnyIO give it: ``name`` if given, else the
    function's module and qualified name."""
    if name is not None:
        return name if type(name) is str else str(name)
    inner = getattr(func, "func", None)  # a functools.partial
    if inner is not None and not hasattr(func, "__qualname__"):
        func = inner
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{qualname}" if module else qualname


class _IgnoredTaskStatus:
    __slots__ = ()
    __module__ = "anyrun"  # as TASK_STATUS_IGNORED, its only instance

    def started(self, value: object = None) -> None:
        pass

    def __repr__(self) -> str:
        return "anyrun.TASK_STATUS_IGNORED"


#: The default of the ``task_status`` parameter of a function that can be started
#: with :meth:`TaskGroup.start() <anyrun.abc.TaskGroup.start>` and also awaited
#: directly: its ``started()`` does nothing. ::
#:
#:     async def serve(port, *, task_status=anyrun.TASK_STATUS_IGNORED):
#:         listener = await open_listener(port)
#:         task_status.started(listener.port)
#:         ...
TASK_STATUS_IGNORED: TaskStatus[Any] = _IgnoredTaskStatus()


class TaskGroup:
    """Runs tasks concurrently and waits for them all (trio's *nursery*).

    Made by :func:`anyrun.create_task_group` and used as an async context manager.
    When the block ends, the task group waits for its tasks. If the block or a task
    raises, the task group cancels itself (:attr:`cancel_scope`): the other tasks and
    the block are cancelled, and once everything has finished, the errors are raised
    together in a :exc:`BaseExceptionGroup`. A task group whose tasks were only
    cancelled raises the cancellation exception itself, not a group of it.

    .. versionadded:: 0.1
    """

    __slots__ = ("__weakref__", "_active", "_entered")
    # Public as anyrun.abc.TaskGroup, which "import anyrun" does not import.
    __module__ = "anyrun.abc"

    _active: bool
    _entered: bool

    @property
    def cancel_scope(self) -> CancelScope:
        # Documented in docs/api.rst, as an attribute.
        raise NotImplementedError

    def start_soon(
        self,
        func: Callable[[Unpack[PosArgsT]], Awaitable[Any]],
        *args: Unpack[PosArgsT],
        name: object = None,
    ) -> None:
        """Start ``func(*args)`` in a new task of this group.

        The task runs in the task group's cancel scope. ::

            async with anyrun.create_task_group() as tg:
                tg.start_soon(fetch, "https://example.com")
                tg.start_soon(fetch, "https://example.org", name="second fetch")

        :param func: an async function (not the coroutine it returns)
        :param args: positional arguments for ``func``; for keyword arguments use
            :func:`functools.partial`
        :param name: the name of the task, for debugging and introspection (by
            default, the function's qualified name)
        :raises TypeError: if ``func`` is not an async function, for example a
            coroutine object: the message shows the right call
        :raises RuntimeError: if the task group is not active (its ``async with``
            block is not running, and it is not waiting for its tasks)
        """
        if not self._active:
            raise RuntimeError(NOT_ACTIVE)
        # coroutine_of(), inlined for speed
        if callable(func):
            coro = func(*args)
            if type(coro) is not CoroutineType:
                coro = call_async_function("start_soon", _Made(func, coro), ())
        else:
            coro = call_async_function("start_soon", func, args)  # pyright: ignore[reportUnknownArgumentType]
        self._spawn(func, coro, name)  # pyright: ignore[reportUnknownArgumentType]

    async def start(
        self,
        func: Callable[..., Awaitable[Any]],
        *args: object,
        name: object = None,
    ) -> Any:
        """Start ``func(*args, task_status=...)`` in a new task, and wait until it
        calls ``task_status.started()``; return the value passed to it.

        Until then, the new task runs in the caller's cancel scope, and what it
        raises is raised here; afterwards it belongs to this task group. ::

            async def serve(port, *, task_status=anyrun.TASK_STATUS_IGNORED):
                listener = await open_listener(port)
                task_status.started(listener.port)
                await listener.serve_forever()

            async with anyrun.create_task_group() as tg:
                port = await tg.start(serve, 0)   # the listener is up now

        :param func: an async function with a ``task_status`` keyword parameter
        :param args: positional arguments for ``func``
        :param name: the name of the task, for debugging and introspection
        :return: the value passed to ``task_status.started()``
        :raises RuntimeError: if the task ends without calling
            ``task_status.started()``, or calls it twice (raised in the task), or if
            the task group is not active
        :raises TypeError: if ``func`` is not an async function
        """
        if not self._active:
            raise RuntimeError(NOT_ACTIVE)
        status = self._new_task_status()
        coro = coroutine_of("start", func, args, status)
        return await self._start(coro, status, task_name(func, name))

    async def __aenter__(self) -> Self:
        """Enter the task group's block.

        :raises RuntimeError: if the task group has been entered before
        """
        raise NotImplementedError

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        """Wait for every task of the group, and raise their errors."""
        raise NotImplementedError

    # The backend's part.

    def _spawn(
        self, func: object, coro: Coroutine[Any, Any, Any], name: object
    ) -> None:
        """Start a task of ``coro``, made by ``func``; ``name`` is the caller's."""
        raise NotImplementedError

    def _new_task_status(self) -> TaskStatus[Any]:
        raise NotImplementedError

    async def _start(
        self, coro: Coroutine[Any, Any, Any], status: TaskStatus[Any], name: str
    ) -> Any:
        raise NotImplementedError


def create_task_group() -> TaskGroup:
    """Return a new task group (trio's *nursery*), to use as an async context manager.

    ::

        async with anyrun.create_task_group() as tg:
            tg.start_soon(worker, 1)
            tg.start_soon(worker, 2)
        # both workers have finished here

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return (cached_backend() or detect_backend()).create_task_group()


def group_errors(errors: list[BaseException]) -> BaseException:
    """The exception a task group raises for ``errors``: the first
    :exc:`KeyboardInterrupt` or :exc:`SystemExit` itself, else an exception group."""
    for error in errors:
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            return error
    import sys

    if sys.version_info < (3, 11):
        from exceptiongroup import BaseExceptionGroup
    else:
        from builtins import BaseExceptionGroup
    return BaseExceptionGroup("unhandled errors in a TaskGroup", errors)
