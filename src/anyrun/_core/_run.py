from __future__ import annotations

from ._coroutines import call_async_function, close_if_coroutine
from ._dispatch import (
    BACKENDS,
    current_backend_var,
    load_backend,
    running_backend_name,
)

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from typing import Any, TypeVar

    from typing_extensions import TypeVarTuple, Unpack

    from .._backends._base import Backend

    PosArgsT = TypeVarTuple("PosArgsT")
    T = TypeVar("T")


def run(
    func: Callable[[Unpack[PosArgsT]], Awaitable[T]],
    *args: Unpack[PosArgsT],
    backend: str = "asyncio",
    backend_options: dict[str, Any] | None = None,
) -> T:
    """Run an async function in a new event loop and return its result.

    The current thread must not be running an event loop already. Everything is
    checked before a loop starts, so a mistake never leaves a half-started loop or a
    "coroutine was never awaited" warning behind. ::

        import anyrun

        async def main(name):
            await anyrun.sleep(0.01)
            return f"hello {name}"

        anyrun.run(main, "world")                     # on asyncio
        anyrun.run(main, "world", backend="trio")     # on trio
        anyrun.run(main, "world", backend_options={"use_uvloop": True})

    Exceptions raised by ``func`` propagate unchanged. The main task runs in a copy of
    the caller's :mod:`contextvars` context, as with :func:`asyncio.run` and
    :func:`trio.run`. On asyncio, Ctrl+C cancels the main task and then raises
    :exc:`KeyboardInterrupt` (a second Ctrl+C raises at once), on every Python.

    :param func: an async function (``async def``), not a coroutine object
    :param args: positional arguments for ``func``
    :param backend: ``"asyncio"`` (the default) or ``"trio"``
    :param backend_options: keyword options for the backend (see
        :ref:`backend-options`): ``debug``, ``loop_factory`` and ``use_uvloop`` on
        asyncio; whatever :func:`trio.run` accepts on trio
    :return: the return value of ``func``
    :raises LookupError: if ``backend`` is unknown or not installed
    :raises TypeError: if ``func`` is not an async function (a regular function is
        called, as trio does, to see what it returns), or an option name is unknown for
        the backend
    :raises ModuleNotFoundError: if ``use_uvloop`` is true and uvloop is not installed
    :raises RuntimeError: if an event loop is already running in this thread
    """
    async_backend, prepared = prepare_backend(backend, backend_options)
    running = running_backend_name()
    if running is not None:
        close_if_coroutine(func)
        raise RuntimeError(f"Already running {running} in this thread")
    coro = call_async_function("anyrun.run", func, args)
    # Set in the caller's context, which the backend copies for the run.
    token = current_backend_var.set(async_backend)
    try:
        return async_backend.run(coro, prepared)
    except BaseException:
        # If the backend failed before starting it, this spares the user a "never
        # awaited" warning; on a finished coroutine it does nothing.
        coro.close()
        raise
    finally:
        current_backend_var.reset(token)


def prepare_backend(
    name: str, options: Mapping[str, Any] | None
) -> tuple[Backend, Mapping[str, Any]]:
    """Check a backend name and its options as :func:`run` takes them, and import
    what they need; the one place both :func:`run` and the pytest plugin do it."""
    backend = load_backend(name)
    if not options:  # the common case; also skips the checks below
        return backend, backend.prepare_run({})
    if not hasattr(options, "keys"):
        raise TypeError(
            f"backend_options must be a dict of option names to values, not {options!r}"
        )
    unknown = options.keys() - backend.option_names
    if unknown:
        raise TypeError(
            f"Unknown option{'s' if len(unknown) > 1 else ''} for the {name} "
            f"backend: {', '.join(sorted(unknown))}; the valid ones are "
            f"{', '.join(sorted(backend.option_names))}"
        )
    return backend, backend.prepare_run(options)


def get_all_backends() -> tuple[str, ...]:
    """Return the names of every backend anyrun supports, installed or not.

    >>> anyrun.get_all_backends()
    ('asyncio', 'trio')
    """
    return tuple(BACKENDS)


def get_available_backends() -> tuple[str, ...]:
    """Return the names of the backends whose packages are installed.

    This looks for the packages without importing them. ::

        for backend in anyrun.get_available_backends():
            anyrun.run(main, backend=backend)
    """
    from importlib.util import find_spec

    return tuple(
        name
        for name, extra in BACKENDS.items()
        if extra is None or find_spec(name) is not None
    )
