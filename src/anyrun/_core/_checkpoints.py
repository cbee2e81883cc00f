from __future__ import annotations

from ._dispatch import current_backend, current_backend_var, detect_backend


async def checkpoint() -> None:
    """Let other tasks run, and raise the cancellation exception if the current task is
    cancelled (a schedule point and a cancel point). Equivalent to ``sleep(0)``. ::

        for item in items:
            process(item)
            await anyrun.lowlevel.checkpoint()
    """
    # current_backend(), inlined for speed
    await (current_backend_var.get() or detect_backend()).checkpoint()


async def checkpoint_if_cancelled() -> None:
    """Raise the cancellation exception if the current task is cancelled, without
    letting other tasks run when it is not (a cancel point only).

    On asyncio a cancellation requested with ``Task.cancel()`` is not seen here: asyncio
    delivers it at the task's next await instead. ::

        await anyrun.lowlevel.checkpoint_if_cancelled()
    """
    await current_backend().checkpoint_if_cancelled()


async def cancel_shielded_checkpoint() -> None:
    """Let other tasks run without raising on cancellation (a schedule point only).

    A pending cancellation stays pending and is raised by the next checkpoint. On
    asyncio this shields from anyrun's own cancellation only: a native
    ``Task.cancel()`` is still delivered here, as it is through every shield. ::

        await anyrun.lowlevel.cancel_shielded_checkpoint()
    """
    await current_backend().cancel_shielded_checkpoint()
