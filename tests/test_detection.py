"""anyrun works under the backends' own run functions, and dispatch is cached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import sniffio
import trio
import uvloop

import anyrun
from anyrun._core import _dispatch
from anyrun.lowlevel import checkpoint


async def use_everything() -> tuple[str, type[BaseException]]:
    start = anyrun.current_time()
    await anyrun.sleep(0)
    await anyrun.sleep(0.001)
    await anyrun.sleep_until(start)
    await checkpoint()
    return sniffio.current_async_library(), anyrun.get_cancelled_exc_class()


NATIVE_RUNS: list[Any] = [
    pytest.param(lambda f: asyncio.run(f()), "asyncio", id="asyncio.run"),
    pytest.param(lambda f: uvloop.run(f()), "asyncio", id="uvloop.run"),
    pytest.param(trio.run, "trio", id="trio.run"),
]


@pytest.mark.parametrize(("native_run", "name"), NATIVE_RUNS)
def test_works_under_native_run(native_run: Callable[..., Any], name: str) -> None:
    library, cancelled = native_run(use_everything)
    assert library == name
    assert cancelled is (trio.Cancelled if name == "trio" else asyncio.CancelledError)


@pytest.mark.parametrize(("native_run", "name"), NATIVE_RUNS)
def test_detection_is_cached_per_task(
    monkeypatch: pytest.MonkeyPatch, native_run: Callable[..., Any], name: str
) -> None:
    calls = []
    detect = _dispatch.running_backend_name

    def counting() -> str | None:
        calls.append(True)
        return detect()

    monkeypatch.setattr(_dispatch, "running_backend_name", counting)
    native_run(use_everything)
    assert len(calls) == 1


def test_anyrun_run_needs_no_detection(
    anyrun_backend_name: str,
    anyrun_backend_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    detect = _dispatch.running_backend_name
    monkeypatch.setattr(
        _dispatch, "running_backend_name", lambda: calls.append(True) or detect()
    )
    name, options = anyrun_backend_name, anyrun_backend_options
    assert anyrun.run(use_everything, backend=name, backend_options=options)[0] == name
    assert calls == []  # run() names its backend for the whole run


def test_runs_in_turn_are_not_confused() -> None:
    assert asyncio.run(use_everything())[0] == "asyncio"
    assert trio.run(use_everything)[0] == "trio"
    assert anyrun.run(use_everything, backend="trio")[0] == "trio"
    assert uvloop.run(use_everything())[0] == "asyncio"
