from __future__ import annotations

from ._dispatch import cached_backend, current_backend, detect_backend


async def checkpoint() -> None:
    """Let other tasks run, and raise the cancellation exception if the current task is
    cancelled (a schedule point and a cancel point). Equivalent to ``sleep(0)``. ::

        for item in items:
            process(item)
            await anyrun.lowlevel.checkpoint()
    """
    # current_backend(), inlined for speed
    backend = cached_backend() or detect_backend()
    await (backend.checkpoint_awaitable or backend.checkpoint())


async def checkpoint_if_cancelled() -> None:
    """Raise the cancellation exception if the current task is cancelled, without
    letting other tasks run when it is not (a cancel point only).

    The task is cancelled when it is inside a cancelled :class:`~anyrun.CancelScope`
    that no shielded scope hides. On asyncio it also is after a ``Task.cancel()`` of
    itself; that cancellation is raised by a bare yield, which lets other tasks run
    once. ::

        await anyrun.lowlevel.checkpoint_if_cancelled()
    """
    await current_backend().checkpoint_if_cancelled()


async def cancel_shielded_checkpoint() -> None:
    """Let other tasks run without raising on cancellation (a schedule point only).

    It is shielded from the cancellation of cancel scopes, as if it were in a shielded
    :class:`~anyrun.CancelScope`: that cancellation stays pending and is raised by the
    next checkpoint. On asyncio a native ``Task.cancel()`` is still delivered here, as
    it is through every shield. ::

        await anyrun.lowlevel.cancel_shielded_checkpoint()
    """
    await current_backend().cancel_shielded_checkpoint()
