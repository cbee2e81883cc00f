"""The anyrun pytest plugin: async tests and fixtures on every backend.

It is registered through the ``pytest11`` entry point, so it is active as soon as
anyrun is installed. Mark async tests with ``@pytest.mark.anyrun`` (or set
``anyrun_mode = auto``); see the "Testing with pytest" page of the docs.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ._core._testing import backend_id, lease, missing_reason, parse_backend

__all__ = (
    "TaskLeftRunningWarning",
    "anyrun_backend",
    "anyrun_backend_name",
    "anyrun_backend_options",
)

_MODES = ("strict", "auto")


class TaskLeftRunningWarning(pytest.PytestWarning):
    """Warned when an async test returns while a task it started is still running."""

    __module__ = "anyrun.pytest_plugin"


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
    return config.getoption("--anyrun-mode") or config.getini("anyrun_mode")


def _is_async(func: object) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def _wants_anyrun(node: pytest.Item | pytest.Collector, func: object) -> bool:
    if _mode(node.config) == "auto":
        return True
    own_marks = getattr(func, "pytestmark", [])
    return any(mark.name == "anyrun" for mark in own_marks) or (
        node.get_closest_marker("anyrun") is not None
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    if (
        collector.istestfunction(obj, name)
        and (
            inspect.iscoroutinefunction(obj)
            or inspect.iscoroutinefunction(_hypothesis_inner(obj))
        )
        and _wants_anyrun(collector, obj)
    ):
        # Requesting the fixture parametrizes the test over its backends.
        pytest.mark.usefixtures("anyrun_backend")(obj)


def _hypothesis_inner(func: object) -> object:
    # Hypothesis documents .hypothesis.inner_test for plugins like this one.
    hypothesis = getattr(func, "hypothesis", None)
    return getattr(hypothesis, "inner_test", None)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    func = pyfuncitem.obj
    inner = _hypothesis_inner(func)
    if not (
        "anyrun_backend" in pyfuncitem.fixturenames
        and (inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(inner))
    ):
        return None
    name, options = parse_backend(pyfuncitem.funcargs["anyrun_backend"])
    held = _lease_or_skip(name, options)
    try:
        before = held.runner.running_tasks()
        if inner is not None:
            # Hypothesis calls the inner test once per example, synchronously.
            def run_example(**kwargs: Any) -> None:
                __tracebackhide__ = True
                held.run(inner(**kwargs))

            func.hypothesis.inner_test = run_example
            try:
                func(**_arguments(func, pyfuncitem))
            finally:
                func.hypothesis.inner_test = inner
        else:
            held.run(func(**_arguments(func, pyfuncitem)))
        left = held.runner.running_tasks() - before
        if left:
            warnings.warn(
                TaskLeftRunningWarning(
                    f"{pyfuncitem.name} returned while {len(left)} task(s) it started "
                    f"were still running: {sorted(map(repr, left))}"
                ),
                stacklevel=1,
            )
    finally:
        held.release()
    return True


def _arguments(func: Callable[..., Any], item: pytest.Function) -> dict[str, Any]:
    parameters = inspect.signature(func).parameters
    return {name: item.funcargs[name] for name in parameters if name in item.funcargs}


def _lease_or_skip(name: str, options: dict[str, Any]) -> Any:
    reason = missing_reason(name, options)
    if reason is not None:
        pytest.skip(reason)
    return lease(name, options)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Iterator[Any]:
    func = fixturedef.func
    if not (_is_async(func) and "anyrun_backend" in request.fixturenames):
        return (yield)
    fixturedef.func = _sync_fixture(func, fixturedef.argnames, request)  # type: ignore[misc]
    try:
        return (yield)
    finally:
        fixturedef.func = func  # type: ignore[misc]


def _sync_fixture(
    func: Callable[..., Any], argnames: tuple[str, ...], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """Wrap an async fixture function in the synchronous one pytest will call."""

    def fixture(**kwargs: Any) -> Any:
        __tracebackhide__ = True
        name, options = parse_backend(request.getfixturevalue("anyrun_backend"))
        held = _lease_or_skip(name, options)
        bound = _bind(func, argnames, request)
        try:
            if inspect.isasyncgenfunction(func):
                agen = bound(**kwargs)
                value = held.run(agen.__anext__())
            else:
                value = held.run(bound(**kwargs))
        except BaseException:
            held.release()
            raise

        def finalize() -> None:
            __tracebackhide__ = True
            try:
                if inspect.isasyncgenfunction(func):
                    _finish(held, agen, request.fixturename)
            finally:
                held.release()

        request.addfinalizer(finalize)
        return value

    return fixture


def _finish(held: Any, agen: Any, fixturename: str) -> None:
    __tracebackhide__ = True
    try:
        held.run(agen.__anext__())
    except StopAsyncIteration:
        return
    held.run(agen.aclose())
    raise ValueError(f"the async fixture {fixturename!r} yielded more than once")


def _bind(
    func: Callable[..., Any], argnames: tuple[str, ...], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    # pytest binds fixture methods to the test's instance itself, but only the
    # functions it calls; ours calls the original, so it binds it the same way.
    instance = request.instance
    if instance is None:
        return func
    self = getattr(func, "__self__", None)
    if self is not None:
        return func if isinstance(self, type) else func.__func__.__get__(instance)  # type: ignore[attr-defined, no-any-return]
    code = func.__code__
    first = code.co_varnames[: code.co_argcount][:1]
    if first and first[0] not in argnames:
        return func.__get__(instance)  # type: ignore[attr-defined, no-any-return]
    return func


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
    name, options = parse_backend(request.param)
    reason = missing_reason(name, options)
    if reason is not None:
        pytest.skip(reason)
    return request.param


@pytest.fixture
def anyrun_backend_name(anyrun_backend: Any) -> str:
    """The name of the current test's backend: ``"asyncio"`` or ``"trio"``."""
    return parse_backend(anyrun_backend)[0]


@pytest.fixture
def anyrun_backend_options(anyrun_backend: Any) -> dict[str, Any]:
    """The options of the current test's backend, as passed to :func:`anyrun.run`."""
    return parse_backend(anyrun_backend)[1]
