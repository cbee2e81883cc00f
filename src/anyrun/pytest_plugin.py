"""The anyrun pytest plugin: async tests and fixtures on every backend.

It is registered through the ``pytest11`` entry point, so it is active as soon as
anyrun is installed. Mark async tests with ``@pytest.mark.anyrun`` (or set
``anyrun_mode = auto``); see the "Testing with pytest" page of the docs. It uses only
pytest's public hooks and objects.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Generator
from types import AsyncGeneratorType
from typing import Any, cast

import pytest

from ._core._cancel import CancelScope
from ._core._run import prepare_backend
from ._core._testing import Lease, backend_id, lease, missing_reason, parse_backend
from .lowlevel import checkpoint

__all__ = ("TaskLeftRunningWarning",)

_MODES = ("strict", "auto")


class TaskLeftRunningWarning(pytest.PytestWarning):
    """Warned when an async test returns while a task it started is still running.

    It is reported at the test, and names the tasks; see :doc:`testing`.

    .. versionadded:: 0.1
    """


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = (
        "strict (the default): run only async tests marked with "
        "@pytest.mark.anyrun; auto: run every async def test with anyrun"
    )
    parser.addini("anyrun_mode", help_text, default="strict")
    parser.getgroup("anyrun").addoption(
        "--anyrun-mode", choices=_MODES, default=None, help=help_text
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "anyrun: run this async test, and its async fixtures, with anyrun on each "
        "backend of the anyrun_backend fixture",
    )
    mode = _mode(config)
    if mode not in _MODES:
        raise pytest.UsageError(
            f"anyrun_mode must be one of {', '.join(_MODES)}, not {mode!r}"
        )


def _mode(config: pytest.Config) -> str:
    return str(config.getoption("--anyrun-mode") or config.getini("anyrun_mode"))


def _is_async(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _wants_anyrun(node: pytest.Module | pytest.Class, func: object) -> bool:
    if _mode(node.config) == "auto":
        return True
    own_marks = getattr(func, "pytestmark", [])
    return any(mark.name == "anyrun" for mark in own_marks) or (
        node.get_closest_marker("anyrun") is not None
    )


def _hypothesis_inner(func: object) -> Any:
    # Hypothesis documents .hypothesis.inner_test for plugins like this one.
    return getattr(getattr(func, "hypothesis", None), "inner_test", None)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    if (
        collector.istestfunction(obj, name)
        and inspect.iscoroutinefunction(_hypothesis_inner(obj) or obj)
        and _wants_anyrun(collector, obj)
    ):
        # Requesting the fixture parametrizes the test over its backends.
        pytest.mark.usefixtures("anyrun_backend")(obj)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    func = pyfuncitem.obj
    inner = _hypothesis_inner(func)
    if not (
        "anyrun_backend" in pyfuncitem.fixturenames
        and inspect.iscoroutinefunction(inner or func)
    ):
        return None
    held = _lease_or_skip(pyfuncitem.funcargs["anyrun_backend"])
    try:
        before = held.runner.running_tasks()
        parameters = inspect.signature(func).parameters
        kwargs = {
            name: pyfuncitem.funcargs[name]
            for name in parameters
            if name in pyfuncitem.funcargs
        }
        if inner is None:
            held.run(func(**kwargs))
        else:
            # Hypothesis calls the inner test once per example, synchronously.
            def run_example(*args: Any, **kwargs: Any) -> None:
                __tracebackhide__ = True
                held.run(inner(*args, **kwargs))

            func.hypothesis.inner_test = run_example
            try:
                func(**kwargs)
            finally:
                func.hypothesis.inner_test = inner
        held.run(_settle())
        left = held.runner.running_tasks() - before
        if left:
            code = (inner or func).__code__
            warnings.warn_explicit(
                TaskLeftRunningWarning(
                    f"{pyfuncitem.name} returned while {len(left)} task(s) it started "
                    f"were still running: {', '.join(sorted(map(repr, left)))}"
                ),
                TaskLeftRunningWarning,
                code.co_filename,
                code.co_firstlineno,
            )
    finally:
        held.release()
    return True


async def _settle() -> None:
    # Let the tasks that are about to finish (a handler that has just seen its
    # connection close) do so before counting the ones left running; shielded, as
    # the test may have cancelled a scope that a fixture holds open around it.
    with CancelScope(shield=True):
        for _ in range(5):
            await checkpoint()


def _lease_or_skip(spec: object) -> Lease:
    name, options = parse_backend(spec)
    reason = missing_reason(name, options)
    if reason is not None:
        pytest.skip(reason)
    return lease(name, options)


# Every anyrun_backend fixture that has run, for _follow_backend.
_BACKEND_FIXTURES: pytest.StashKey[set[pytest.FixtureDef[Any]]] = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    # pytest calls fixturedef.func with the fixture's arguments: for this one setup,
    # make that a synchronous function that does our part too.
    __tracebackhide__ = True
    func = fixturedef.func
    if fixturedef.argname == "anyrun_backend":
        known = request.config.stash.setdefault(_BACKEND_FIXTURES, set())
        known.add(fixturedef)
        if inspect.isgeneratorfunction(func):
            return (yield)  # checked later, by _lease_or_skip
        fixturedef.func = _checked_backend(func, request)  # type: ignore[misc]
    elif _is_async(func) and "anyrun_backend" in request.fixturenames:
        fixturedef.func = _sync_fixture(func, fixturedef, request)  # type: ignore[misc]
    else:
        return (yield)
    try:
        return (yield)
    finally:
        fixturedef.func = func  # type: ignore[misc]


def _checked_backend(
    func: Callable[..., Any], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """Wrap an ``anyrun_backend`` fixture function (ours or an override) so that its
    value is checked as pytest runs it, at the setup of the first test that uses it: a
    backend that is not installed skips the test (pytest reports the skip at the
    test, not in this plugin), and a mistake is an error."""

    def anyrun_backend(**kwargs: Any) -> Any:
        __tracebackhide__ = True
        spec = _bind(func, request)(**kwargs)
        name, options = parse_backend(spec)
        reason = missing_reason(name, options)
        if reason is not None:
            pytest.skip(reason)
        prepare_backend(name, options)  # an unknown name or option is an error
        return spec

    return anyrun_backend


def _sync_fixture(
    func: Callable[..., Any],
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
) -> Callable[..., Any]:
    """Wrap an async fixture function in the synchronous one pytest will call."""

    def fixture(**kwargs: Any) -> Any:
        __tracebackhide__ = True
        spec = request.getfixturevalue("anyrun_backend")
        _follow_backend(fixturedef, request, spec)
        held = _lease_or_skip(spec)
        try:
            result = _bind(func, request)(**kwargs)
            if inspect.isasyncgen(result):
                agen: AsyncGeneratorType[Any, Any] | None = result
                value = _first(held, result, request.fixturename)
            else:
                agen = None
                value = held.run(result)
        except BaseException:
            held.release()
            raise

        def finalize() -> None:
            __tracebackhide__ = True
            try:
                if agen is not None:
                    _finish(held, agen, request.fixturename)
            finally:
                held.release()

        request.addfinalizer(finalize)
        return value

    return fixture


def _follow_backend(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest, spec: object
) -> None:
    """Tear a wider-scoped async fixture down when ``anyrun_backend`` changes, as
    pytest does for the fixtures that request it, so that it never serves a test on
    another event loop than its own."""
    if fixturedef.scope == "function" or "anyrun_backend" in fixturedef.argnames:
        return
    # The fixture that gave this value; several, if an override returns the same object.
    finish = functools.partial(fixturedef.finish, request=cast(Any, request))
    for backend in request.config.stash.get(_BACKEND_FIXTURES, ()):
        if backend.cached_result is not None and backend.cached_result[0] is spec:
            backend.addfinalizer(finish)


def _first(
    held: Lease, agen: AsyncGeneratorType[Any, Any], fixturename: str | None
) -> Any:
    __tracebackhide__ = True
    try:
        return held.run(agen.__anext__(), agen.ag_code)
    except StopAsyncIteration:
        raise ValueError(f"{fixturename} did not yield a value") from None


def _finish(
    held: Lease, agen: AsyncGeneratorType[Any, Any], fixturename: str | None
) -> None:
    __tracebackhide__ = True
    try:
        held.run(agen.__anext__(), agen.ag_code)
    except StopAsyncIteration:
        return
    held.run(agen.aclose())
    raise ValueError(f"the async fixture {fixturename!r} yielded more than once")


def _bind(
    func: Callable[..., Any], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    # pytest binds a fixture method to the test's instance, but only the function it
    # calls (see its resolve_fixture_function); ours calls the original, so it binds
    # it the same way. A classmethod, or a method of a plugin object, stays as it is.
    owner = getattr(func, "__self__", None)
    instance = request.instance
    if owner is None or instance is None or not isinstance(instance, type(owner)):
        return func
    return func.__func__.__get__(instance)  # type: ignore[attr-defined, no-any-return]


_DEFAULT_BACKENDS = [
    pytest.param(spec, id=backend_id(spec))
    for spec in ("asyncio", ("asyncio", {"use_uvloop": True}), "trio")
]


@pytest.fixture(scope="session", params=_DEFAULT_BACKENDS)
def anyrun_backend(request: pytest.FixtureRequest) -> Any:
    """The backend of an anyrun test: a name (``"trio"``) or a ``(name, options)``
    pair (``("asyncio", {"use_uvloop": True})``). By default each test runs on
    asyncio, asyncio+uvloop and trio, skipping those not installed; override this
    fixture, with any scope, to choose."""
    return request.param


@pytest.fixture
def anyrun_backend_name(anyrun_backend: Any) -> str:
    """The name of the current test's backend: ``"asyncio"`` or ``"trio"``."""
    return parse_backend(anyrun_backend)[0]


@pytest.fixture
def anyrun_backend_options(anyrun_backend: Any) -> dict[str, Any]:
    """The options of the current test's backend, as passed to :func:`anyrun.run`."""
    return parse_backend(anyrun_backend)[1]
