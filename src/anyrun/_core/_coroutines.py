from __future__ import annotations

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from typing import Any, TypeVar

    from typing_extensions import TypeGuard

    T = TypeVar("T")


def _name_of(obj: object) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


async def _probe() -> None:
    pass


# The type of native coroutines, found as the types module does, without importing it
# (types costs "import anyrun" a quarter of a millisecond).
_probe_coroutine = _probe()
CoroutineType = type(_probe_coroutine)
_probe_coroutine.close()
del _probe, _probe_coroutine


def _is_coroutine(obj: object) -> TypeGuard[Coroutine[Any, Any, Any]]:
    if type(obj) is CoroutineType:  # the common case, without an ABC check
        return True
    from collections.abc import Coroutine

    return isinstance(obj, Coroutine)


def close_if_coroutine(obj: object) -> None:
    """Close a coroutine object we refuse, so Python does not also warn that it was
    never awaited."""
    if _is_coroutine(obj):
        obj.close()


def call_async_function(
    caller: str, func: Callable[..., Awaitable[T]], args: tuple[Any, ...]
) -> Coroutine[Any, Any, T]:
    """Call ``func(*args)`` and return the coroutine it makes, or raise a
    :exc:`TypeError` that shows the call the user meant (as trio's
    ``coroutine_or_error`` does)."""
    if not callable(func):
        if _is_coroutine(func):
            name = _name_of(func)
            close_if_coroutine(func)
            raise TypeError(
                f"{caller}() expected an async function, but got the coroutine object "
                f"{name}(...): pass the function and its arguments, not the result of "
                f"calling it:\n\n    {caller}({name}(...))  ->  {caller}({name}, ...)"
            )
        raise TypeError(
            f"{caller}() expected an async function, but got {func!r}, which is not "
            "callable"
        )
    coro = func(*args)
    if _is_coroutine(coro):
        return coro
    name = _name_of(func)
    if hasattr(coro, "__aiter__"):
        raise TypeError(
            f"{caller}() expected an async function, but {name} is an async generator "
            "function; it must be declared with 'async def' and must not yield"
        )
    if hasattr(coro, "__await__"):
        raise TypeError(
            f"{caller}() expected an async function, but {name}() returned "
            f"{coro!r}, an awaitable that is not a coroutine; wrap it in an async "
            "function that awaits it"
        )
    raise TypeError(
        f"{caller}() expected an async function, but {name} is a regular function "
        f"(it returned {coro!r}); declare it with 'async def {name}(...)'"
    )
