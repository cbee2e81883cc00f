"""Blocking portals: synchronous code in other threads running tasks in an event loop.

Written once, on anyrun's own task groups and cancel scopes and on the calls of
:mod:`anyrun.from_thread`, so both backends behave alike. Nothing heavy is imported
until a portal is used: :mod:`concurrent.futures` and :mod:`threading` cost
milliseconds.
"""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from _thread import allocate_lock, get_ident

from ._cancel import CancelScope
from ._from_thread import run_sync
from ._tasks import create_task_group
from ._time import get_cancelled_exc_class, sleep_forever
from ._token import current_token

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from concurrent.futures import Future
    from contextlib import AbstractAsyncContextManager, AbstractContextManager
    from types import TracebackType
    from typing import Any, TypeVar, overload

    from typing_extensions import Self, TypeVarTuple, Unpack

    from ._tasks import TaskGroup

    PosArgsT = TypeVarTuple("PosArgsT")
    T = TypeVar("T")
    T_co = TypeVar("T_co", covariant=True)


class _Flag:
    """An event for the tasks of one loop, built on cancel scopes: waiters sleep in a
    scope of their own, which :meth:`set` cancels."""

    __slots__ = ("_scopes", "is_set")

    def __init__(self) -> None:
        self.is_set = False
        self._scopes: list[CancelScope] = []

    def set(self) -> None:
        self.is_set = True
        for scope in self._scopes:
            scope.cancel()
        self._scopes.clear()

    async def wait(self) -> None:
        if self.is_set:
            return
        with CancelScope() as scope:
            self._scopes.append(scope)
            await sleep_forever()


class _TaskStatus:
    """The ``task_status`` of :meth:`BlockingPortal.start_task`."""

    __slots__ = ("_future",)

    def __init__(self, future: Future[Any]) -> None:
        self._future = future

    def started(self, value: object = None) -> None:
        if self._future.done():
            raise RuntimeError("called 'started' twice on the same task status")
        self._future.set_result(value)


class BlockingPortal:
    """Lets other threads run code in the event loop it was made in, and wait for it:
    synchronous code, such as a Flask or Django view, calling async code.

    Made in the event loop and used there as an async context manager, which runs
    the portal's tasks in a task group of its own::

        async with anyrun.from_thread.BlockingPortal() as portal:
            thread = threading.Thread(target=sync_code, args=(portal,))
            thread.start()
            await anyrun.to_thread.run_sync(thread.join)

        def sync_code(portal):
            result = portal.call(fetch, "https://example.com")

    :func:`start_blocking_portal` runs a portal in an event loop of its own, in a new
    thread. The methods :meth:`call`, :meth:`start_task_soon`, :meth:`start_task` and
    :meth:`wrap_async_context_manager` are for other threads; in the event loop's own
    thread they raise :exc:`RuntimeError` rather than wait forever.

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._token = current_token()
        self._loop_thread: int | None = get_ident()
        self._stopped = _Flag()
        self._task_group: TaskGroup = create_task_group()

    async def __aenter__(self) -> Self:
        await self._task_group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        await self.stop()
        return await self._task_group.__aexit__(exc_type, exc_val, exc_tb)

    def _check_running(self) -> None:
        if self._loop_thread is None:
            raise RuntimeError("This portal is not running")
        if self._loop_thread == get_ident():
            raise RuntimeError(
                "This method cannot be called from the event loop thread, where it "
                "would wait for itself forever; await the function directly instead"
            )

    async def sleep_until_stopped(self) -> None:
        """Wait until :meth:`stop` is called."""
        await self._stopped.wait()

    async def stop(self, cancel_remaining: bool = False) -> None:
        """Stop the portal: it takes no new calls, and :meth:`sleep_until_stopped`
        returns. Leaving the ``async with`` block then waits for the portal's tasks.

        :param cancel_remaining: ``True`` to cancel the tasks still running,
            ``False`` to let them finish
        """
        self._loop_thread = None
        self._stopped.set()
        if cancel_remaining:
            self._task_group.cancel_scope.cancel()

    async def _call_func(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        future: Future[Any],
    ) -> None:
        scope: CancelScope | None = None
        token = self._token

        def cancel_on_future_cancel(done: Future[Any]) -> None:
            # In whichever thread cancelled the future.
            if done.cancelled() and scope is not None:
                if get_ident() == token._thread_id:
                    scope.cancel()
                else:
                    try:  # noqa: SIM105 (contextlib costs "import anyrun" time)
                        token._call_soon(scope.cancel)
                    except RuntimeError:
                        pass  # the loop is gone, and the task with it

        try:
            value: Any = func(*args, **kwargs)
            if hasattr(value, "__await__"):
                with CancelScope() as scope:
                    future.add_done_callback(cancel_on_future_cancel)
                    value = await value
        except get_cancelled_exc_class():
            # The portal's task group is cancelled (stop(cancel_remaining=True)).
            future.cancel()
            future.set_running_or_notify_cancel()
        except BaseException as exc:
            if future.set_running_or_notify_cancel():
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt and the like end the portal too
        else:
            if future.set_running_or_notify_cancel():
                future.set_result(value)
        finally:
            scope = None

    def _spawn(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: object,
    ) -> Future[Any]:
        from concurrent.futures import Future
        from functools import partial  # here: functools costs "import anyrun" 2 ms

        self._check_running()
        future: Future[Any] = Future()
        run_sync(
            partial(self._task_group.start_soon, name=name),
            self._call_func,
            func,
            args,
            kwargs,
            future,
            token=self._token,
        )
        return future

    if TYPE_CHECKING:

        @overload
        def call(
            self,
            func: Callable[[Unpack[PosArgsT]], Awaitable[T]],
            *args: Unpack[PosArgsT],
        ) -> T: ...

        @overload
        def call(
            self, func: Callable[[Unpack[PosArgsT]], T], *args: Unpack[PosArgsT]
        ) -> T: ...

    def call(
        self, func: Callable[[Unpack[PosArgsT]], Any], *args: Unpack[PosArgsT]
    ) -> Any:
        """Call ``func(*args)`` in the event loop and return its result; if it returns
        an awaitable (an async function), await it there first. ::

            body = portal.call(fetch, "https://example.com")
            portal.call(event.set)

        :raises RuntimeError: if the portal is not running, or this is the event
            loop's own thread
        """
        return self.start_task_soon(func, *args).result()

    if TYPE_CHECKING:

        @overload
        def start_task_soon(
            self,
            func: Callable[[Unpack[PosArgsT]], Awaitable[T]],
            *args: Unpack[PosArgsT],
            name: object = None,
        ) -> Future[T]: ...

        @overload
        def start_task_soon(
            self,
            func: Callable[[Unpack[PosArgsT]], T],
            *args: Unpack[PosArgsT],
            name: object = None,
        ) -> Future[T]: ...

    def start_task_soon(
        self,
        func: Callable[[Unpack[PosArgsT]], Any],
        *args: Unpack[PosArgsT],
        name: object = None,
    ) -> Future[Any]:
        """Start ``func(*args)`` in a task of the portal, and return a
        :class:`concurrent.futures.Future` of its result.

        Cancelling the future cancels the task. ::

            future = portal.start_task_soon(fetch, "https://example.com")
            ...
            body = future.result()

        :param name: the name of the task
        :raises RuntimeError: if the portal is not running, or this is the event
            loop's own thread
        """
        return self._spawn(func, args, {}, name)

    def start_task(
        self,
        func: Callable[..., Awaitable[T]],
        *args: object,
        name: object = None,
    ) -> tuple[Future[T], Any]:
        """Start ``func(*args, task_status=...)`` in a task of the portal, wait until it
        calls ``task_status.started()``, and return a future of its result and the
        value it passed to ``started()``, as a task group's ``start()`` does. ::

            future, port = portal.start_task(serve, 0)

        :param name: the name of the task
        :raises RuntimeError: if the portal is not running, this is the event loop's
            own thread, or the task ends without calling ``task_status.started()``
        """
        from concurrent.futures import Future

        self._check_running()
        status_future: Future[Any] = Future()

        def task_done(future: Future[T]) -> None:
            if status_future.done():
                return
            if future.cancelled():
                status_future.cancel()
            elif future.exception() is not None:
                status_future.set_exception(future.exception())
            else:
                status_future.set_exception(
                    RuntimeError("Task exited without calling task_status.started()")
                )

        future = self._spawn(
            func, args, {"task_status": _TaskStatus(status_future)}, name
        )
        future.add_done_callback(task_done)
        return future, status_future.result()

    def wrap_async_context_manager(
        self, cm: AbstractAsyncContextManager[T_co]
    ) -> AbstractContextManager[T_co]:
        """Return a regular context manager that enters and exits the async context
        manager ``cm`` in a task of the portal. ::

            with portal.wrap_async_context_manager(open_connection()) as conn:
                portal.call(conn.send, b"hello")
        """
        return _BlockingAsyncContextManager(cm, self)


class _BlockingAsyncContextManager:
    def __init__(
        self, cm: AbstractAsyncContextManager[Any], portal: BlockingPortal
    ) -> None:
        self._cm = cm
        self._portal = portal
        self._exit_info: tuple[Any, Any, Any] = (None, None, None)

    async def _run(self) -> bool | None:
        self._exit_flag = _Flag()
        try:
            value = await self._cm.__aenter__()
        except BaseException as exc:
            self._enter_future.set_exception(exc)
            raise
        self._enter_future.set_result(value)
        try:
            # Cancelled here only if a task group inside the async context manager
            # failed, or the portal stops with cancel_remaining=True.
            await self._exit_flag.wait()
        finally:
            result: bool | None = await self._cm.__aexit__(*self._exit_info)
        return result

    def __enter__(self) -> Any:
        from concurrent.futures import Future

        self._enter_future: Future[Any] = Future()
        self._exit_future: Future[bool | None] = self._portal.start_task_soon(self._run)
        return self._enter_future.result()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        self._exit_info = (exc_type, exc_val, exc_tb)
        self._portal.call(self._exit_flag.set)
        return self._exit_future.result()


class _PortalThread:
    """What :func:`start_blocking_portal` returns: a context manager that runs an
    event loop in a new thread for the duration of its block."""

    def __init__(
        self, backend: str, backend_options: dict[str, Any] | None, name: str | None
    ) -> None:
        self._backend = backend
        self._backend_options = backend_options
        self._name = name
        self._error: BaseException | None = None

    def __enter__(self) -> BlockingPortal:
        import threading
        from concurrent.futures import Future

        from ._run import run

        future: Future[BlockingPortal] = Future()
        backend, name = self._backend, self._name

        async def run_portal() -> None:
            async with BlockingPortal() as portal:
                if name is None:
                    threading.current_thread().name = f"{backend}-portal-{id(portal):x}"
                future.set_result(portal)
                await portal.sleep_until_stopped()

        def run_loop() -> None:
            try:
                run(run_portal, backend=backend, backend_options=self._backend_options)
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)
                else:
                    self._error = exc  # raised when the block ends

        self._thread = threading.Thread(target=run_loop, name=name, daemon=True)
        self._thread.start()
        try:
            self._portal = future.result()
        except BaseException:
            self._thread.join()
            raise
        return self._portal

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        try:
            # An error in the block cancels what the portal still runs.
            self._portal.call(self._portal.stop, exc_type is not None)
        except RuntimeError:
            pass  # stopped already, or its loop has ended
        finally:
            self._thread.join()
        error, self._error = self._error, None
        if error is not None and exc_type is None:
            # The loop crashed: a task raised KeyboardInterrupt or the like.
            try:
                raise error
            finally:
                del error


def start_blocking_portal(
    backend: str = "asyncio",
    backend_options: dict[str, Any] | None = None,
    *,
    name: str | None = None,
) -> AbstractContextManager[BlockingPortal]:
    """Run an event loop in a new thread, with a :class:`BlockingPortal` in its main
    task, for as long as the returned context manager's block runs.

    When the block ends, the portal stops: its remaining tasks are waited for, or
    cancelled if the block raised; then the loop and its thread end. ::

        with anyrun.from_thread.start_blocking_portal() as portal:
            body = portal.call(fetch, "https://example.com")

    :param backend: the backend, as for :func:`anyrun.run`
    :param backend_options: the backend's options, as for :func:`anyrun.run`
    :param name: the name of the thread (by default ``"<backend>-portal-<id>"``)
    :return: a context manager whose ``with`` gives the portal
    :raises LookupError: if the backend is unknown or not installed
    :raises TypeError: if an option is unknown

    .. versionadded:: 0.1
    """
    return _PortalThread(backend, backend_options, name)


class BlockingPortalProvider:
    """Shares one blocking portal among threads: the first thread to enter starts
    it (with :func:`start_blocking_portal`), and the last one to leave stops it.

    Useful where many threads run sync code that needs the async world now and
    then, such as the request handlers of a threaded web server::

        portal_provider = anyrun.from_thread.BlockingPortalProvider()

        def view(request):
            with portal_provider as portal:
                return portal.call(fetch, request.args["url"])

    :param backend: the backend, as for :func:`anyrun.run`
    :param backend_options: the backend's options, as for :func:`anyrun.run`

    .. versionadded:: 0.1
    """

    def __init__(
        self, backend: str = "asyncio", backend_options: dict[str, Any] | None = None
    ) -> None:
        self.backend = backend
        self.backend_options = backend_options
        self._lock = allocate_lock()
        self._leases = 0
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None

    def __repr__(self) -> str:
        return (
            f"BlockingPortalProvider(backend={self.backend!r}, "
            f"backend_options={self.backend_options!r})"
        )

    def __enter__(self) -> BlockingPortal:
        with self._lock:
            if self._portal_cm is None:
                portal_cm = start_blocking_portal(self.backend, self.backend_options)
                self._portal = portal_cm.__enter__()
                self._portal_cm = portal_cm
            self._leases += 1
            assert self._portal is not None
            return self._portal

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        portal_cm = None
        with self._lock:
            assert self._portal_cm is not None
            assert self._leases > 0
            self._leases -= 1
            if not self._leases:
                portal_cm, self._portal_cm, self._portal = self._portal_cm, None, None
        if portal_cm is not None:
            portal_cm.__exit__(exc_type, exc_val, exc_tb)
