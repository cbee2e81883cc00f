"""Typer with async commands, on any anyrun backend: the async support that Typer's
documentation once described, built on Typer's public API.

Every function the user gives Typer is registered as a plain function made by
:func:`sync_function`, which keeps its name, docstring and signature (Typer reads the
parameters through ``__wrapped__``) and runs the coroutine it returns with the right
``async_runner``. That runner is looked up when the function runs, not when it is
registered, so that a sub-app added with ``add_typer()`` later still inherits its
parent's runner.

The one dependency on Typer's internals: the functions inside ``typer.Option()`` and
``typer.Argument()`` (``callback`` and ``autocompletion``) cannot be reached through
Typer's API, so they are made synchronous in copies of those objects, which the
registered function presents in its ``__signature__``. That relies on how Typer reads
parameters: with ``inspect.signature()``, which returns ``__signature__`` when there is
one, evaluating string annotations from Python 3.10 on. Only
:func:`_signature_with_sync_functions` and :func:`_evaluate` depend on it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Coroutine
from copy import copy
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

try:
    import typer
except ModuleNotFoundError as exc:
    if exc.name != "typer":
        raise
    raise ModuleNotFoundError(
        "anyrun.typer needs Typer, which is not installed; "
        'install it with: pip install "anyrun[typer]"',
        name="typer",
    ) from None
from typer.models import ParameterInfo

from ._entrypoint import is_async_callable, runner, sync_function

if TYPE_CHECKING:
    from ._entrypoint import AsyncRunner

F = TypeVar("F", bound=Callable[..., Any])

# runner() decides the default backend when it first runs, not now.
_default_runner: AsyncRunner = runner()

# Keyword arguments of Typer(), callback() and add_typer() that take a function Typer
# calls during a run.
_FUNCTION_ARGUMENTS = ("callback", "result_callback")
# Attributes of typer.Option() and typer.Argument() that hold such functions.
_PARAMETER_FUNCTIONS = ("callback", "autocompletion")


class Typer(typer.Typer):
    """A :class:`typer.Typer` whose commands and callbacks may be ``async def``.

    It takes every argument :class:`typer.Typer` takes, plus ``async_runner``, and
    awaits the async functions it is given: commands, callbacks (from
    ``@app.callback()``, ``Typer(callback=...)`` and ``add_typer(callback=...)``),
    result callbacks, and the ``callback`` and ``autocompletion`` functions of
    ``typer.Option()`` and ``typer.Argument()``. Synchronous functions are called as
    Typer calls them. ::

        import anyrun
        from anyrun.typer import Typer

        app = Typer()

        @app.command()
        async def hello(name: str) -> None:
            await anyrun.sleep(0.1)
            print(f"Hello {name}")

        if __name__ == "__main__":
            app()

    ``@app.command()`` and ``@app.callback()`` take the arguments they take in Typer,
    plus an ``async_runner`` of their own, which wins over the app's; they return the
    function unchanged, so an async command can still be awaited. Each async function
    runs in its own event loop, started and closed around it, so a callback and its
    command may run on different backends.

    :param async_runner: runs the coroutine of each async function of this app that
        has no runner of its own; for example ``anyrun.runner(backend="trio")``,
        ``anyrun.runner(backend="asyncio", backend_options={"use_uvloop": True})`` or
        :func:`asyncio.run`. Without it, an app added to another with
        ``add_typer()`` uses that app's runner, and any other app uses
        :func:`anyrun.runner()<anyrun.runner>` (trio if installed, else asyncio).
    :param kwargs: the arguments of :class:`typer.Typer`

    .. versionadded:: 0.1
    """

    def __init__(self, *, async_runner: AsyncRunner | None = None, **kwargs: Any):
        self._anyrun_runner = async_runner
        self._anyrun_parent: Typer | None = None
        super().__init__(**_sync_arguments(kwargs, self._run_coroutine))

    def command(
        self, *args: Any, async_runner: AsyncRunner | None = None, **kwargs: Any
    ) -> Callable[[F], F]:
        """Register a command, as :meth:`typer.Typer.command` does; it may be async.

        :param async_runner: runs this command's coroutine, in place of the app's
        :param args: the arguments of :meth:`typer.Typer.command`
        :param kwargs: the arguments of :meth:`typer.Typer.command`
        :return: a decorator that registers the function and returns it unchanged,
            so an async command can still be awaited
        """
        register = super().command(*args, **kwargs)
        return self._decorator(register, async_runner)

    def callback(
        self, *args: Any, async_runner: AsyncRunner | None = None, **kwargs: Any
    ) -> Callable[[F], F]:
        """Register the app's callback, as :meth:`typer.Typer.callback` does; it, and
        its ``result_callback``, may be async.

        :param async_runner: runs the callback's coroutine, in place of the app's
        :param args: the arguments of :meth:`typer.Typer.callback`
        :param kwargs: the arguments of :meth:`typer.Typer.callback`
        :return: a decorator that registers the function and returns it unchanged
        """
        run = self._run_coroutine if async_runner is None else async_runner
        register = super().callback(*args, **_sync_arguments(kwargs, run))
        return self._decorator(register, async_runner)

    def add_typer(self, typer_instance: typer.Typer, *args: Any, **kwargs: Any) -> None:
        """Add a sub-app, as :meth:`typer.Typer.add_typer` does; its ``callback`` and
        ``result_callback`` may be async.

        A sub-app created without an ``async_runner`` uses this app's.

        :param typer_instance: the sub-app, an :class:`anyrun.typer.Typer` if it has
            async functions
        :param args: the arguments of :meth:`typer.Typer.add_typer`
        :param kwargs: the arguments of :meth:`typer.Typer.add_typer`
        :raises TypeError: if ``typer_instance`` is a plain :class:`typer.Typer` with
            async functions, which it would never await
        """
        if isinstance(typer_instance, Typer):
            typer_instance._anyrun_parent = self
            run = typer_instance._run_coroutine
        else:
            _check_plain_typer(typer_instance)
            run = self._run_coroutine
        super().add_typer(typer_instance, *args, **_sync_arguments(kwargs, run))

    def _decorator(
        self, register: Callable[[Any], Any], async_runner: AsyncRunner | None
    ) -> Callable[[F], F]:
        run = self._run_coroutine if async_runner is None else async_runner

        def decorator(func: F) -> F:
            register(_sync_command(func, run))
            return func

        return decorator

    def _run_coroutine(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """The app's ``async_runner``: its own, or else the nearest one among the apps
        it was added to, or else the default."""
        app = self
        while app._anyrun_runner is None and app._anyrun_parent is not None:
            app = app._anyrun_parent
        async_runner = app._anyrun_runner or _default_runner
        return async_runner(coro)


def run(
    function: Callable[..., Any], *, async_runner: AsyncRunner | None = None
) -> None:
    """Run ``function`` as a command line application, as :func:`typer.run` does; it
    may be async. ::

        import anyrun
        import anyrun.typer

        async def main(name: str) -> None:
            await anyrun.sleep(0.1)
            print(f"Hello {name}")

        if __name__ == "__main__":
            anyrun.typer.run(main)

    :param function: the function, async or not, whose parameters are the command
        line's
    :param async_runner: as for :class:`Typer`; by default,
        :func:`anyrun.runner()<anyrun.runner>` (trio if installed, else asyncio)

    .. versionadded:: 0.1
    """
    app = Typer(add_completion=False, async_runner=async_runner)
    app.command()(function)
    app()


def _sync_arguments(
    kwargs: dict[str, Any], async_runner: AsyncRunner
) -> dict[str, Any]:
    return {
        key: _sync_command(value, async_runner) if key in _FUNCTION_ARGUMENTS else value
        for key, value in kwargs.items()
    }


def _sync_command(func: F, async_runner: AsyncRunner) -> F:
    """What Typer should call in place of ``func``: a synchronous function that runs
    ``func`` and, through its signature, the functions of its parameters."""
    if not callable(func):  # the Default(None) placeholder of an argument not given
        return func
    signature = _signature_with_sync_functions(func, async_runner)
    if signature is None and not is_async_callable(func):
        return func
    wrapper = sync_function(func, async_runner)
    if signature is not None:
        # inspect.signature(), which Typer reads the parameters with, returns this
        # rather than reading the signature of __wrapped__. (setattr: mypy and pyright
        # disagree on whether a function's attributes may be assigned.)
        setattr(wrapper, "__signature__", signature)  # noqa: B010
    return wrapper  # type: ignore[return-value]


def _signature_with_sync_functions(
    func: Callable[..., Any], async_runner: AsyncRunner
) -> inspect.Signature | None:
    """The signature of ``func`` as Typer reads it, where each ``typer.Option()`` or
    ``typer.Argument()`` with an async function is replaced by a copy with a
    synchronous one; ``None`` if there is none.

    The copies go in the one signature Typer will read rather than being changed in
    place: with "from __future__ import annotations", each evaluation of an annotation
    makes new objects, and an object shared by two commands may need two runners.
    """
    signature = inspect.signature(func)
    namespace = getattr(inspect.unwrap(func), "__globals__", {})
    replaced = False
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        default = _sync_parameter_info(parameter.default, async_runner)
        annotation: Any = _evaluate(parameter.annotation, namespace)
        metadata: tuple[object, ...] = getattr(annotation, "__metadata__", ())
        synced = tuple(_sync_parameter_info(item, async_runner) for item in metadata)
        if any(new is not old for new, old in zip(synced, metadata)):
            arguments = (annotation.__origin__, *synced)
            annotation = Annotated[arguments]  # the same as Annotated[T, x, y]
            replaced = True
        replaced = replaced or default is not parameter.default
        parameters.append(parameter.replace(default=default, annotation=annotation))
    return signature.replace(parameters=parameters) if replaced else None


def _evaluate(annotation: object, namespace: dict[str, Any]) -> object:
    """A string annotation evaluated as Typer evaluates it: with
    ``inspect.signature(eval_str=True)`` from Python 3.10 on, not at all before."""
    if not isinstance(annotation, str) or sys.version_info < (3, 10):
        return annotation
    try:
        return eval(annotation, namespace)  # what eval_str=True does
    except Exception:
        # A name defined later (or nowhere). Left as a string, Typer resolves it with
        # typing.get_type_hints() when it builds the command, or reports the error.
        return annotation


def _sync_parameter_info(obj: object, async_runner: AsyncRunner) -> object:
    """A copy of a ``typer.Option()`` or ``typer.Argument()`` with its async functions
    made synchronous, or ``obj`` itself if it has none."""
    if not isinstance(obj, ParameterInfo):
        return obj
    changes: dict[str, Callable[..., Any]] = {}
    for attribute in _PARAMETER_FUNCTIONS:
        function = getattr(obj, attribute, None)
        if function is not None and is_async_callable(function):
            changes[attribute] = sync_function(function, async_runner)
    if not changes:
        return obj
    info = copy(obj)
    for attribute, function in changes.items():
        setattr(info, attribute, function)
    return info


def _check_plain_typer(app: typer.Typer) -> None:
    functions = [command.callback for command in app.registered_commands]
    functions.append(app.info.callback)
    if app.registered_callback is not None:
        functions.append(app.registered_callback.callback)
    if any(is_async_callable(function) for function in functions):
        raise TypeError(
            f"{app!r} is a typer.Typer, which never awaits its async functions; "
            "create it with anyrun.typer.Typer() instead"
        )
