"""Test runners shared by fixtures and tests, for the pytest plugin.

A runner (one event loop with one long-lived task) is leased: each async fixture holds
a lease until its teardown and each test holds one while it runs, and the runner closes
when the last lease goes. So a module-scoped async fixture keeps one loop alive for the
tests that share it, and a lone test gets a fresh loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._dispatch import BACKENDS, current_backend_var
from ._run import prepare_backend

if TYPE_CHECKING:
    from types import CodeType

    from .._backends._base import TestRunner

T = TypeVar("T")


def parse_backend(spec: object) -> tuple[str, dict[str, Any]]:
    """Split an ``anyrun_backend`` value, ``"trio"`` or ``("asyncio", {...})``."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, tuple):
        pair = cast("tuple[object, ...]", spec)
        if len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], Mapping):
            return pair[0], dict(cast("Mapping[str, Any]", pair[1]))
    raise TypeError(
        "anyrun_backend must be a backend name such as 'trio', or a (name, options) "
        f"pair such as ('asyncio', {{'use_uvloop': True}}), not {spec!r}"
    )


def backend_id(spec: object) -> str:
    """The readable test id of a backend: ``asyncio``, ``asyncio+uvloop``, ``trio``."""
    name, options = parse_backend(spec)
    return f"{name}+uvloop" if options.get("use_uvloop") else name


def missing_reason(name: str, options: Mapping[str, Any]) -> str | None:
    """Why this backend cannot run here (naming the pip command), or ``None``."""
    from importlib.util import find_spec

    needed = [BACKENDS.get(name)]
    if options.get("use_uvloop") and options.get("loop_factory") is None:
        needed.append("uvloop")
    for package in needed:
        if package is not None and find_spec(package) is None:
            return f'{package} is not installed: pip install "anyrun[{package}]"'
    return None


def _key(name: str, options: Mapping[str, Any]) -> Hashable:
    # Options may hold unhashable objects (a clock); those count by identity.
    return name, tuple(
        sorted(
            (key, value if isinstance(value, Hashable) else id(value))
            for key, value in options.items()
        )
    )


class Lease:
    def __init__(self, key: Hashable, runner: TestRunner) -> None:
        self._key = key
        self.runner = runner

    def run(self, awaitable: Awaitable[T], code: CodeType | None = None) -> T:
        """Run ``awaitable`` on the leased runner; an exception it raises comes back
        with a traceback that starts in the user's code (``code``, by default the
        coroutine's own), not in the plugin's or the event loop's."""
        __tracebackhide__ = True
        if code is None:
            code = getattr(awaitable, "cr_code", None)
        try:
            return self.runner.run(awaitable)  # type: ignore[arg-type]
        except BaseException as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code is not code:
                tb = tb.tb_next
            if tb is not None:
                raise exc.with_traceback(tb)  # noqa: B904 (it is the same exception)
            raise

    def release(self) -> None:
        entry = _runners[self._key]
        entry[1] -= 1
        if entry[1] == 0:
            del _runners[self._key]
            entry[0].close()


_runners: dict[Hashable, list[Any]] = {}


def lease(name: str, options: Mapping[str, Any]) -> Lease:
    """Lease the runner for this backend, starting it if nobody holds one."""
    key = _key(name, options)
    entry = _runners.get(key)
    if entry is None:
        backend, prepared = prepare_backend(name, options)
        # The runner's task copies the context now, and keeps the answer.
        token = current_backend_var.set(backend)
        try:
            entry = _runners[key] = [backend.create_test_runner(prepared), 0]
        finally:
            current_backend_var.reset(token)
    entry[1] += 1
    return Lease(key, entry[0])
