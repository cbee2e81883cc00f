"""Calling async code from threads: the public functions of
:mod:`anyrun.from_thread`."""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from _thread import get_ident

from ._exceptions import NoEventLoopError
from ._token import EventLoopToken, LoopCall
from ._workers import WorkerJob, thread_state

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import NoReturn, TypeVar

    from typing_extensions import TypeVarTuple, Unpack

    PosArgsT = TypeVarTuple("PosArgsT")
    T = TypeVar("T")


def _target(name: str, token: object) -> tuple[EventLoopToken, WorkerJob | None]:
    """The token to call through, and the worker job whose cancellation the call
    shares (a worker calling without a token, unless its job may be abandoned)."""
    if token is None:
        job = thread_state.job
        if job is None:
            _no_token(name)
        return job.token, None if job.abandon_on_cancel else job
    if type(token) is not EventLoopToken:
        raise TypeError(
            f"token must be an EventLoopToken from anyrun.lowlevel.current_token(), "
            f"not {token!r}"
        )
    if token._thread_id == get_ident() and not token._finished:
        raise RuntimeError(
            f"from_thread.{name}() was called in the thread of the token's own event "
            f"loop, where it would wait for itself forever; call the function "
            f"directly instead"
        )
    return token, None


def _no_token(name: str) -> NoReturn:
    from ._dispatch import running_backend_name

    if running_backend_name() is not None:
        raise RuntimeError(
            f"from_thread.{name}() was called in the event loop's own thread, where it "
            f"would wait for itself forever; call the function directly instead"
        )
    raise NoEventLoopError(
        f"from_thread.{name}() was called without a token in a thread that "
        f"to_thread.run_sync() did not start, so it cannot tell which event loop to "
        f"call into: get a token in the event loop with "
        f"anyrun.lowlevel.current_token(), hand it to this thread and pass it: "
        f"from_thread.{name}(func, *args, token=token)"
    )


def run(
    func: Callable[[Unpack[PosArgsT]], Awaitable[T]],
    *args: Unpack[PosArgsT],
    token: EventLoopToken | None = None,
) -> T:
    """Call an async function in the event loop from a thread, wait for it to finish
    and return its result.

    In a worker thread started by :func:`anyrun.to_thread.run_sync`, it calls into
    the loop of that call, and shares its cancellation: cancelling the task that
    waits for the thread (unless it passed ``abandon_on_cancel=True``) cancels the
    function. Any other thread needs the loop's ``token``, from
    :func:`anyrun.lowlevel.current_token`::

        def worker():   # in a worker thread
            anyrun.from_thread.run(anyrun.sleep, 1)

        def foreign_thread(token):   # in any other thread
            anyrun.from_thread.run(anyrun.sleep, 1, token=token)

    ``func`` runs in a new task, in a copy of the calling thread's
    :mod:`contextvars` context. What it returns or raises is returned or raised
    here, unchanged.

    :param func: an async function
    :param args: positional arguments for ``func``
    :param token: the token of the event loop to call into; needed outside the
        worker threads of :func:`anyrun.to_thread.run_sync`
    :return: what ``func`` returns
    :raises RuntimeError: if called in the event loop's own thread (where it would
        wait for itself forever)
    :raises NoEventLoopError: if called without a token in a thread that
        :func:`anyrun.to_thread.run_sync` did not start
    :raises RunFinishedError: if the event loop has finished, or finishes before
        ``func`` does
    :raises TypeError: if ``func`` is not an async function, or ``token`` is not a
        token

    .. versionadded:: 0.1
    """
    target, job = _target("run", token)
    result: T = target._call(
        LoopCall(target, func, args, job), target._backend.start_call
    )
    return result


def run_sync(
    func: Callable[[Unpack[PosArgsT]], T],
    *args: Unpack[PosArgsT],
    token: EventLoopToken | None = None,
) -> T:
    """Call a regular function in the event loop's thread from another thread, wait
    for it and return its result.

    Use it for what must happen in the loop's thread, such as setting an event or
    starting a task::

        anyrun.from_thread.run_sync(event.set)

    Like :func:`run`, it needs a ``token`` outside the worker threads of
    :func:`anyrun.to_thread.run_sync`, and runs ``func`` in a copy of the calling
    thread's :mod:`contextvars` context.

    :param func: a regular function
    :param args: positional arguments for ``func``
    :param token: the token of the event loop to call into; needed outside the
        worker threads of :func:`anyrun.to_thread.run_sync`
    :return: what ``func`` returns
    :raises RuntimeError: if called in the event loop's own thread
    :raises NoEventLoopError: if called without a token in a thread that
        :func:`anyrun.to_thread.run_sync` did not start
    :raises RunFinishedError: if the event loop has finished
    :raises TypeError: if ``func`` is an async function, or ``token`` is not a token

    .. versionadded:: 0.1
    """
    target, _ = _target("run_sync", token)
    result: T = target._call(LoopCall(target, func, args, None), LoopCall.run_sync)
    return result


def check_cancelled() -> None:
    """In a worker thread, raise the cancellation exception if the task waiting for
    the thread has been cancelled.

    A long job in a thread can call it now and then to stop early::

        def crunch(items):
            for item in items:
                anyrun.from_thread.check_cancelled()
                process(item)

    :raises NoEventLoopError: if this thread was not started by
        :func:`anyrun.to_thread.run_sync`

    .. versionadded:: 0.1
    """
    job = thread_state.job
    if job is None:
        raise NoEventLoopError(
            "from_thread.check_cancelled() works only in a worker thread started by "
            "to_thread.run_sync()"
        )
    raise_cancel = job.raise_cancel
    if raise_cancel is not None:
        raise_cancel()
