"""Event loop tokens, and the calls that threads make into an event loop through them.

A token is made once per run, by the backend, on the first call of
:func:`current_token` (or of a thread function that needs one), and closed by the
backend when the run ends. It holds what belongs to the run: the calls that threads
are waiting on (all failed with :exc:`RunFinishedError` when it closes, so no thread
stays blocked), the pool of worker threads and the default thread limiter.

Nothing heavy is imported here, so that ``import anyrun`` stays light: locks come
from ``_thread``, and sniffio and threading are imported on first use.
"""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from _thread import allocate_lock, get_ident
from contextvars import copy_context

from ._coroutines import CoroutineType
from ._dispatch import current_backend, current_backend_var
from ._exceptions import RunFinishedError
from ._tasks import coroutine_of

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextvars import ContextVar
    from typing import Any

    from .._backends._base import Backend
    from ._limiter import CapacityLimiter
    from ._workers import WorkerJob, WorkerPool


#: How often a thread waiting on an asyncio loop checks that the loop is not closed,
#: in seconds: a loop closed without ``shutdown_asyncgens()`` never tells its token.
GONE_POLL_INTERVAL = 1.0

_MISSING = object()
_sniffio_var: ContextVar[str | None] | None = None


def sniffio_var() -> ContextVar[str | None]:
    """sniffio's context variable, imported on first use."""
    global _sniffio_var
    if _sniffio_var is None:
        from sniffio import current_async_library_cvar

        _sniffio_var = current_async_library_cvar
    return _sniffio_var


def leave_loop() -> None:
    """In a context copied for a worker thread: make it look like sync code, where
    sniffio raises and anyrun's async functions raise :exc:`NoEventLoopError`."""
    current_backend_var.set(None)
    sniffio_var().set(None)


def enter_loop(backend: Backend) -> None:
    """In a context copied from a thread for a call in the loop: name the backend for
    anyrun and for sniffio (which cannot find asyncio in a plain callback)."""
    current_backend_var.set(backend)
    sniffio_var().set(backend.name)


class EventLoopToken:
    """A reference to a running event loop that lets any thread call into it, with
    :func:`anyrun.from_thread.run` and :func:`anyrun.from_thread.run_sync`.

    Get it in the event loop with :func:`current_token` and hand it to the thread.
    A run has one token: every call of :func:`current_token` in it returns the same
    object. Once the run ends, calls through the token raise
    :exc:`~anyrun.RunFinishedError`.

    .. versionadded:: 0.1
    """

    __slots__ = (
        "__weakref__",
        "_backend",
        "_call_soon",
        "_finished",
        "_is_gone",
        "_limiter",
        "_lock",
        "_native",
        "_on_close",
        "_pending",
        "_pool",
        "_thread_id",
    )

    def __init__(
        self,
        backend: Backend,
        native: object,
        call_soon: Callable[..., object],
        is_gone: Callable[[], bool] | None = None,
    ) -> None:
        # Made by the backends only; see current_token().
        self._backend = backend
        self._native = native
        #: Schedules fn(*args) in the loop from any thread; RuntimeError if it is gone.
        self._call_soon = call_soon
        #: Tells whether the loop has gone without the token being closed.
        self._is_gone = is_gone
        #: What the backend does last in _close().
        self._on_close: Callable[[], object] | None = None
        self._thread_id = get_ident()
        self._lock = allocate_lock()
        self._finished = False
        self._pending: dict[LoopCall, None] = {}
        self._pool: WorkerPool | None = None
        self._limiter: CapacityLimiter | None = None

    def __repr__(self) -> str:
        state = "finished" if self._finished else "running"
        return (
            f"<anyrun.lowlevel.EventLoopToken of a {state} {self._backend.name} loop>"
        )

    # -- In the loop -------------------------------------------------------------------

    def _default_limiter(self) -> CapacityLimiter:
        limiter = self._limiter
        if limiter is None:
            limiter = self._limiter = self._backend.default_thread_limiter()
        return limiter

    def _workers(self) -> WorkerPool:
        pool = self._pool
        if pool is None:
            from ._workers import WorkerPool

            pool = self._pool = WorkerPool(self)
        return pool

    def _close(self) -> None:
        """End the token: fail every waiting call with :exc:`RunFinishedError` and
        stop the worker threads. The backends call it when the run ends; a thread
        that finds the loop gone calls it too."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            pending, self._pending = self._pending, {}
        in_loop = get_ident() == self._thread_id
        for call in pending:
            call.error = RunFinishedError(
                f"The {self._backend.name} event loop finished before "
                f"{_name_of(call.func)}() could run (or finish) in it"
            )
            call.lock.release()
            if in_loop and call.cancel is not None:
                call.cancel()  # nobody waits for its task any more
        if self._pool is not None:
            # Joining in the loop's own thread only: another thread may be a worker.
            self._pool.close(join=in_loop)
        if self._on_close is not None:
            self._on_close()

    def _complete(
        self, call: LoopCall, value: object, error: BaseException | None
    ) -> None:
        """Hand the outcome of ``call`` to its waiting thread, unless :meth:`_close`
        has failed it already."""
        with self._lock:
            if self._pending.pop(call, _MISSING) is _MISSING:
                return
        call.value = value
        call.error = error
        call.lock.release()

    # -- In other threads --------------------------------------------------------------

    def _call(self, call: LoopCall, start: Callable[[LoopCall], object]) -> Any:
        """Run ``start(call)`` in the loop (which runs the function in the call's
        context), wait until the call completes and return its result."""
        with self._lock:
            if self._finished:
                raise RunFinishedError(
                    f"The {self._backend.name} event loop of this token has finished"
                )
            self._pending[call] = None
        try:
            self._call_soon(start, call)
        except RuntimeError:  # the loop is closed, or the trio run has finished
            self._close()  # which fails the call
        lock = call.lock
        if self._is_gone is None:
            lock.acquire()
        else:
            while not lock.acquire(timeout=GONE_POLL_INTERVAL):
                if self._is_gone():
                    self._close()
        return call.unwrap()


class LoopCall:
    """One call of a function in the loop by another thread, which waits on ``lock``."""

    __slots__ = (
        "args",
        "cancel",
        "context",
        "error",
        "func",
        "job",
        "lock",
        "token",
        "value",
    )

    def __init__(
        self,
        token: EventLoopToken,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        job: WorkerJob | None,
    ) -> None:
        self.token = token
        self.func = func
        self.args = args
        #: The worker job whose cancellation this call shares, or None for a call that
        #: only the end of the run cancels.
        self.job = job
        self.context = context = copy_context()
        context.run(enter_loop, token._backend)
        self.lock = allocate_lock()
        self.lock.acquire()
        self.value: Any = None
        self.error: BaseException | None = None
        self.cancel: Callable[[], object] | None = None

    def unwrap(self) -> Any:
        error = self.error
        if error is None:
            return self.value
        try:
            raise error
        finally:
            # No reference cycle through this frame's traceback.
            del error, self

    # -- In the loop -------------------------------------------------------------------

    def run_sync(self) -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            result: Any = self.context.run(self.func, *self.args)
            if isinstance(result, CoroutineType):
                result.close()
                raise TypeError(
                    f"from_thread.run_sync() expected a regular function, but "
                    f"{_name_of(self.func)} is an async function; call it with "
                    f"from_thread.run() instead"
                )
            value = result
        except BaseException as exc:  # delivered to the thread, whatever it is
            error = exc
        self.token._complete(self, value, error)
        del error

    def started(self, cancel: Callable[[], object]) -> None:
        """Called by the backend, before the task runs, with the way to cancel it."""
        self.cancel = cancel
        if self.job is not None:
            self.job.calls.add(self)

    async def run_async(self) -> None:
        value: object = None
        error: BaseException | None = None
        job = self.job
        try:
            if job is not None and job.raise_cancel is not None:
                # The host task is cancelled already. Cancelled from inside, the task
                # still runs this coroutine, which reports the cancellation.
                assert self.cancel is not None
                self.cancel()
            value = await coroutine_of("from_thread.run", self.func, self.args)
        except BaseException as exc:  # delivered to the thread, whatever it is
            error = self._cancelled(exc)
        finally:
            if job is not None:
                job.calls.discard(self)
        self.token._complete(self, value, error)
        del error

    def task_done(self, task: object) -> None:
        """A done callback for a backend whose tasks may be cancelled before they
        start, when their coroutine cannot report it (asyncio's)."""
        if task.cancelled():  # type: ignore[attr-defined]
            if self.job is not None:
                self.job.calls.discard(self)
            exc = self.token._backend.cancelled_exc_class()()
            self.token._complete(self, None, self._cancelled(exc))

    def _cancelled(self, exc: BaseException) -> BaseException:
        """What a call that raised ``exc`` raises in its thread."""
        if self.job is None and isinstance(
            exc, self.token._backend.cancelled_exc_class()
        ):
            # Only the end of the run cancels a call that no task waits on.
            error = RunFinishedError(
                f"The {self.token._backend.name} event loop is finishing, and "
                f"cancelled {_name_of(self.func)}()"
            )
            error.__cause__ = exc
            return error
        return exc


def _name_of(func: object) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def current_token() -> EventLoopToken:
    """Return the token of the running event loop, which lets other threads call
    into it with :func:`anyrun.from_thread.run` and
    :func:`anyrun.from_thread.run_sync`, or start a task in it with a blocking portal.

    A worker thread started by :func:`anyrun.to_thread.run_sync` needs no token;
    any other thread does::

        token = anyrun.lowlevel.current_token()
        thread = threading.Thread(
            target=lambda: anyrun.from_thread.run(anyrun.sleep, 1, token=token)
        )

    Every call in one run returns the same token. When the run ends, threads waiting
    on it, and later calls through it, get :exc:`~anyrun.RunFinishedError`.

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return current_backend().current_token()
