from __future__ import annotations

from ._dispatch import cached_backend, current_backend, detect_backend

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from typing import NoReturn


async def sleep(delay: float) -> None:
    """Pause the current task for ``delay`` seconds.

    ``sleep(0)`` is a checkpoint: it lets other tasks run and is a cancellation point.
    ``sleep(math.inf)`` sleeps until cancelled. ::

        await anyrun.sleep(0.5)

    :param delay: the duration, in seconds
    :raises ValueError: if ``delay`` is negative or NaN, on every backend (as trio and
        AnyIO 4.16 do)
    """
    if delay == 0:
        # current_backend(), inlined for speed
        backend = cached_backend() or detect_backend()
        await (backend.checkpoint_awaitable or backend.checkpoint())
    elif delay > 0:
        await current_backend().sleep(delay)
    else:
        raise ValueError(f"delay must be a non-negative number, not {delay!r}")


async def sleep_forever() -> NoReturn:
    """Pause the current task until it is cancelled.

    It never returns; cancellation raises out of it::

        await anyrun.sleep_forever()
    """
    await current_backend().sleep_forever()
    raise AssertionError("sleep_forever() returned")  # pragma: no cover


async def sleep_until(deadline: float) -> None:
    """Pause the current task until the event loop's clock reaches ``deadline``.

    A deadline in the past returns after a checkpoint. ::

        deadline = anyrun.current_time() + 10
        await anyrun.sleep_until(deadline)

    :param deadline: an absolute time on the clock of :func:`current_time`
    :raises ValueError: if ``deadline`` is NaN
    """
    backend = current_backend()
    delay = deadline - backend.current_time()
    if delay > 0:
        await backend.sleep(delay)
    elif delay == delay:  # not NaN
        await backend.checkpoint()
    else:
        raise ValueError("deadline must not be NaN")


def current_time() -> float:
    """Return the current time on the event loop's clock, in seconds.

    The clock is monotonic and its zero is arbitrary; it is the clock of deadlines and
    of :func:`sleep_until`. ::

        start = anyrun.current_time()

    :raises NoEventLoopError: if no event loop runs in this thread
    """
    return current_backend().current_time()


def get_cancelled_exc_class() -> type[BaseException]:
    """Return the exception class the current backend raises on cancellation:
    :exc:`asyncio.CancelledError` or :exc:`trio.Cancelled`.

    Re-raise it when you catch it::

        try:
            await anyrun.sleep(1)
        except anyrun.get_cancelled_exc_class():
            print("cancelled")
            raise

    :raises NoEventLoopError: if no event loop runs in this thread
    """
    return current_backend().cancelled_exc_class()
