"""Running async functions from synchronous callers: :func:`runner`, the
``async_runner`` that Typer's async design and :func:`asyncio.run` share, and
:func:`entrypoint`, which turns an ``async def`` into a function Click (or anything
that calls plain functions) can call.
"""

from __future__ import annotations

from ._coroutines import close_if_coroutine
from ._dispatch import BACKENDS, load_backend, running_backend_name
from ._run import get_available_backends, run

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any, TypeVar, overload

    from typing_extensions import ParamSpec

    P = ParamSpec("P")
    T = TypeVar("T")
    #: What Typer's design calls an ``async_runner``: it runs a coroutine object to
    #: the end and returns its result, as :func:`asyncio.run` does.
    AsyncRunner = Callable[[Coroutine[Any, Any, Any]], Any]


# Not functools.cache: importing functools would nearly double "import anyrun".
_default_backend: str | None = None


def default_backend() -> str:
    """The backend of ``runner()`` with no ``backend``: trio if it is installed, else
    asyncio (the table of Typer's async design, with anyrun in AnyIO's place).

    Decided once per process, by looking for trio without importing it, so that a
    command line's ``--help`` does not pay for importing trio.
    """
    global _default_backend
    if _default_backend is None:
        _default_backend = "trio" if "trio" in get_available_backends() else "asyncio"
    return _default_backend


def runner(
    backend: str | None = None, backend_options: dict[str, Any] | None = None
) -> Callable[[Coroutine[Any, Any, T]], T]:
    """Return an ``async_runner``: a function that runs a coroutine object with
    :func:`anyrun.run` and returns its result.

    It has the shape of :func:`asyncio.run`, which is what Typer's async design and
    other "give me a runner" APIs take, so it works wherever those do; these two lines
    are equivalent::

        anyrun.runner(backend="trio")(main("world"))
        anyrun.run(main, "world", backend="trio")

    With no ``backend``, the runner uses trio if trio is installed, otherwise asyncio
    (decided once, without importing trio). uvloop, and the other options of
    :func:`anyrun.run`, come through ``backend_options``::

        fast = anyrun.runner(backend="asyncio", backend_options={"use_uvloop": True})

    A coroutine the runner refuses (for example because an event loop is already
    running in this thread) is closed, so it never warns that it was never awaited.

    :param backend: ``"asyncio"``, ``"trio"``, or ``None`` for the default above
    :param backend_options: the backend's options, as :func:`anyrun.run` takes them;
        only with a ``backend``, since options belong to one backend
    :return: a function that takes a coroutine object and returns its result
    :raises LookupError: if ``backend`` is not a backend anyrun knows
    :raises TypeError: if ``backend_options`` is given without a ``backend``

    The returned runner raises :exc:`TypeError` if given anything but a coroutine
    object, :exc:`RuntimeError` if an event loop is already running in this thread,
    and otherwise what :func:`anyrun.run` raises.

    .. versionadded:: 0.1
    """
    if backend is None and backend_options is not None:
        raise TypeError(
            "backend_options belong to one backend; name it: "
            f"runner(backend='asyncio', backend_options={backend_options!r})"
        )
    if backend is not None and backend not in BACKENDS:
        # Raises LookupError with the list of backends, at definition rather than when
        # a command first runs. A known backend is imported only when it runs, so that
        # defining a command line stays cheap.
        load_backend(backend)

    def async_runner(coro: Coroutine[Any, Any, T]) -> T:
        from collections.abc import Coroutine

        if not isinstance(coro, Coroutine):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(_not_a_coroutine(coro))
        running = running_backend_name()
        if running is not None:
            coro.close()
            name = getattr(coro, "__name__", "the coroutine")
            raise RuntimeError(
                f"Cannot run {name}() here: {running} is already running an event "
                f"loop in this thread. From async code, await it instead (await "
                f"{name}(...)); run a command line from synchronous code"
            )
        chosen = default_backend() if backend is None else backend
        try:
            return run(lambda: coro, backend=chosen, backend_options=backend_options)
        except BaseException:
            # If run() refused to start (a missing backend, a bad option), the
            # coroutine never ran; closing it spares the "never awaited" warning. On a
            # finished coroutine it does nothing.
            coro.close()
            raise

    return async_runner


def _not_a_coroutine(obj: object) -> str:
    name = getattr(obj, "__name__", None)
    if name is not None and is_async_callable(obj):
        return (
            f"An async_runner takes a coroutine object, but got the async function "
            f"{name}; call it:\n\n    async_runner({name})  ->  async_runner({name}())"
        )
    return f"An async_runner takes a coroutine object, not {obj!r}"


def is_async_callable(obj: object) -> bool:
    """Whether calling ``obj`` makes a coroutine: an ``async def`` function, one
    wrapped by decorators that keep ``__wrapped__`` (such as ``click.pass_context``),
    a :func:`functools.partial` of one, or an object with an ``async def __call__``."""
    import inspect

    return inspect.iscoroutinefunction(
        inspect.unwrap(obj)  # type: ignore[arg-type]
    ) or inspect.iscoroutinefunction(type(obj).__call__)


def sync_function(
    func: Callable[P, Any], async_runner: AsyncRunner
) -> Callable[P, Any]:
    """Wrap ``func`` in a plain function with its name, docstring, signature and
    annotations, which runs the coroutine ``func`` returns with ``async_runner``.

    A result that is not a coroutine is returned as it is, so a function that is
    already synchronous (wrapped twice, say) still works.
    """
    from collections.abc import Coroutine
    from functools import wraps

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        result = func(*args, **kwargs)
        if not isinstance(result, Coroutine):
            return result
        coro: Coroutine[Any, Any, Any] = result  # pyright: ignore[reportUnknownVariableType]
        try:
            return async_runner(coro)
        except BaseException:
            # A runner that refuses to start, as asyncio.run() does inside a running
            # loop, leaves the coroutine unstarted; closing it spares the "never
            # awaited" warning.
            coro.close()
            raise

    return wrapper


if TYPE_CHECKING:

    @overload
    def entrypoint(func: Callable[P, Coroutine[Any, Any, T]], /) -> Callable[P, T]: ...

    @overload
    def entrypoint(
        *, backend: str | None = None, backend_options: dict[str, Any] | None = None
    ) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, T]]: ...


def entrypoint(
    func: Callable[..., Coroutine[Any, Any, Any]] | None = None,
    /,
    *,
    backend: str | None = None,
    backend_options: dict[str, Any] | None = None,
) -> Any:
    """Turn an async function into a synchronous one that runs it with
    :func:`anyrun.run`, for callers that only call plain functions, such as Click.

    The result has the name, docstring, signature and annotations of the async
    function (through :func:`functools.wraps`), so ``@click.command()`` above it
    builds the right options and ``--help``::

        import click
        import anyrun

        @click.command()
        @click.option("--count", default=1)
        @anyrun.entrypoint
        async def main(count: int) -> None:
            '''Say hello, slowly.'''
            for _ in range(count):
                await anyrun.sleep(0.1)
                click.echo("hello")

    Use it bare, or with the arguments of :func:`runner` to choose the backend
    (``@anyrun.entrypoint(backend="trio")``). These two are equivalent::

        anyrun.entrypoint(backend="trio")(main)(3)
        anyrun.run(main, 3, backend="trio")

    :param func: an async function
    :param backend: as for :func:`runner`: ``"asyncio"``, ``"trio"``, or ``None`` for
        trio if it is installed, else asyncio
    :param backend_options: as for :func:`runner`
    :return: the synchronous function, or with no ``func``, a decorator that makes it
    :raises TypeError: if ``func`` is not an async function
    :raises LookupError: if ``backend`` is not a backend anyrun knows

    .. versionadded:: 0.1
    """
    async_runner = runner(backend, backend_options)

    def decorate(func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        if not is_async_callable(func):
            close_if_coroutine(func)  # spares a "never awaited" warning on top
            raise TypeError(_not_async_function(func))
        return sync_function(func, async_runner)

    return decorate if func is None else decorate(func)


def _not_async_function(obj: object) -> str:
    if isinstance(obj, str):
        return (
            f"anyrun.entrypoint() takes the backend by keyword: "
            f"@anyrun.entrypoint(backend={obj!r})"
        )
    if is_async_callable(getattr(obj, "callback", None)):
        # @click.command() already turned the async function into a command.
        return (
            f"anyrun.entrypoint() expected an async function, but got {obj!r}; put "
            "@anyrun.entrypoint below @click.command(), right above 'async def'"
        )
    name = getattr(obj, "__name__", None)
    if callable(obj) and name is not None:
        return (
            f"anyrun.entrypoint() expected an async function, but {name} is a "
            f"regular function; declare it with 'async def {name}(...)', or drop "
            "@anyrun.entrypoint"
        )
    if name is not None:  # a coroutine object
        return (
            f"anyrun.entrypoint() expected an async function, but got the coroutine "
            f"object {name}(...); pass the function itself: "
            f"anyrun.entrypoint({name}(...))  ->  anyrun.entrypoint({name})"
        )
    return f"anyrun.entrypoint() expected an async function, not {obj!r}"
