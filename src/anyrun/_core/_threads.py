"""Calling blocking code from async code: the public functions of
:mod:`anyrun.to_thread`."""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from ._dispatch import cached_backend, current_backend, detect_backend
from ._limiter import CapacityLimiter
from ._workers import WorkerJob

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from typing_extensions import TypeVarTuple, Unpack

    PosArgsT = TypeVarTuple("PosArgsT")
    T = TypeVar("T")


async def run_sync(
    func: Callable[[Unpack[PosArgsT]], T],
    *args: Unpack[PosArgsT],
    abandon_on_cancel: bool = False,
    limiter: CapacityLimiter | None = None,
) -> T:
    """Call a regular (blocking) function in a worker thread and return its result.

    These two lines are equivalent, except that the second lets other tasks run
    while ``func`` blocks::

        data = path.read_bytes()
        data = await anyrun.to_thread.run_sync(path.read_bytes)

    Worker threads are reused: each run keeps a pool, in which a thread that has had
    nothing to do for 10 seconds exits, and which is emptied when the run ends. At
    most 40 threads run at once by default (see
    :func:`current_default_thread_limiter`); pass ``limiter`` to use another limit.
    The function runs in a copy of the caller's :mod:`contextvars` context, where
    no event loop is running: in it, :func:`sniffio.current_async_library` raises and
    anyrun's async functions raise :exc:`~anyrun.NoEventLoopError`. It can call back
    into the event loop with :func:`anyrun.from_thread.run`.

    Cancellation cannot interrupt a thread. If the calling task is cancelled while
    ``func`` runs, it still waits for ``func`` to return, and then raises the
    cancellation exception (the result is dropped); meanwhile
    :func:`anyrun.from_thread.check_cancelled` raises in the thread, and calls the
    thread makes into the loop with :func:`anyrun.from_thread.run` are cancelled.
    With ``abandon_on_cancel=True``, the task raises the cancellation at once and
    ``func`` is left to finish on its own; its result is dropped, and it keeps its
    limiter token until it returns.

    :param func: a regular function
    :param args: positional arguments for ``func`` (use :func:`functools.partial`
        for keyword arguments)
    :param abandon_on_cancel: whether to stop waiting for the thread when the
        calling task is cancelled
    :param limiter: the :class:`~anyrun.CapacityLimiter` whose token the thread
        holds while it runs; by default the one of
        :func:`current_default_thread_limiter`
    :return: what ``func`` returns
    :raises TypeError: if ``func`` is not callable, or is an async function, or
        ``limiter`` is not a :class:`~anyrun.CapacityLimiter`
    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    backend = cached_backend() or detect_backend()
    if not callable(func):
        raise TypeError(f"to_thread.run_sync() expected a function, not {func!r}")
    token = backend.current_token()
    if limiter is None:
        limiter = token._limiter or token._default_limiter()
    elif not isinstance(limiter, CapacityLimiter):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(
            f"limiter must be an anyrun.CapacityLimiter, not {type(limiter).__name__}"
        )
    job = WorkerJob(token, func, args, bool(abandon_on_cancel), limiter)
    await backend.checkpoint_if_cancelled()
    await limiter._acquire_for_thread(job)
    try:
        job.start()
    except BaseException:
        limiter.release_on_behalf_of(job)
        raise
    await backend.wait_for_worker(job)
    result: T = job.unwrap()
    return result


def current_default_thread_limiter() -> CapacityLimiter:
    """Return the limiter that :func:`run_sync` uses when given none: **40 tokens**,
    so at most 40 of its worker threads run at once in an event loop.

    Each run has its own; set its :attr:`~anyrun.CapacityLimiter.total_tokens` to
    change the limit for the run::

        anyrun.to_thread.current_default_thread_limiter().total_tokens = 100

    On trio it is trio's own default limiter, which :func:`trio.to_thread.run_sync`
    shares.

    :raises NoEventLoopError: if no event loop runs in this thread

    .. versionadded:: 0.1
    """
    return current_backend().current_token()._default_limiter()
