from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import traceback
from typing import Any

import pytest
import sniffio
import trio
import trio.testing
import uvloop

import anyrun
from anyrun._core import _dispatch

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def double(n: int) -> int:
    await anyrun.sleep(0)
    return n * 2


def test_returns_result(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    name, options = anyrun_backend_name, anyrun_backend_options
    assert anyrun.run(double, 21, backend=name, backend_options=options) == 42


def test_names_backend_to_sniffio(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    async def main() -> str:
        return sniffio.current_async_library()

    name, options = anyrun_backend_name, anyrun_backend_options
    assert anyrun.run(main, backend=name, backend_options=options) == name


def test_uvloop_option_runs_on_uvloop() -> None:
    async def main() -> object:
        return asyncio.get_running_loop()

    loop = anyrun.run(main, backend_options={"use_uvloop": True})
    assert isinstance(loop, uvloop.Loop)
    assert not isinstance(anyrun.run(main), uvloop.Loop)


class Boom(Exception):
    pass


async def fail() -> None:
    await anyrun.sleep(0)
    raise Boom("boom")


def test_exception_propagates_with_traceback(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    name, options = anyrun_backend_name, anyrun_backend_options
    with pytest.raises(Boom, match="boom") as info:
        anyrun.run(fail, backend=name, backend_options=options)
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert frames[-1] == "fail"


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_base_exceptions_propagate(
    anyrun_backend_name: str,
    anyrun_backend_options: dict[str, Any],
    exc_type: type[BaseException],
) -> None:
    async def main() -> None:
        raise exc_type

    name, options = anyrun_backend_name, anyrun_backend_options
    with pytest.raises(exc_type):
        anyrun.run(main, backend=name, backend_options=options)


def test_contextvars_copied_into_run_and_not_back(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    async def main() -> str:
        seen = var.get()
        var.set("inside")
        return seen

    name, options = anyrun_backend_name, anyrun_backend_options
    token = var.set("outside")
    try:
        assert anyrun.run(main, backend=name, backend_options=options) == "outside"
        assert var.get() == "outside"
    finally:
        var.reset(token)


def test_runs_one_after_another_on_different_backends() -> None:
    async def main() -> str:
        await anyrun.sleep(0)
        return sniffio.current_async_library()

    assert [anyrun.run(main, backend=b) for b in ("trio", "asyncio", "trio")] == [
        "trio",
        "asyncio",
        "trio",
    ]


# asyncio options


def test_asyncio_debug_option() -> None:
    async def main() -> bool:
        return asyncio.get_running_loop().get_debug()

    assert anyrun.run(main, backend_options={"debug": True}) is True
    assert anyrun.run(main, backend_options={"debug": False}) is False


def test_asyncio_loop_factory_wins_over_use_uvloop() -> None:
    made: list[asyncio.AbstractEventLoop] = []

    def factory() -> asyncio.AbstractEventLoop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    async def main() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    loop = anyrun.run(
        main, backend_options={"loop_factory": factory, "use_uvloop": True}
    )
    assert made == [loop]
    assert loop.is_closed()


# trio options


def test_trio_options_pass_through() -> None:
    clock = trio.testing.MockClock(autojump_threshold=0)

    async def main() -> float:
        await anyrun.sleep(1000)
        return anyrun.current_time()

    assert anyrun.run(main, backend="trio", backend_options={"clock": clock}) == (
        clock.current_time()
    )
    assert clock.current_time() >= 1000


def test_trio_instruments_option() -> None:
    class Recorder(trio.abc.Instrument):
        def __init__(self) -> None:
            self.events: list[str] = []

        def before_run(self) -> None:
            self.events.append("before_run")

        def after_run(self) -> None:
            self.events.append("after_run")

    recorder = Recorder()
    anyrun.run(double, 1, backend="trio", backend_options={"instruments": [recorder]})
    assert recorder.events == ["before_run", "after_run"]


def test_coroutine_closed_when_backend_fails_to_start() -> None:
    # trio warns (an error here) about this option before it starts the main task
    with pytest.raises(trio.TrioDeprecationWarning):
        anyrun.run(
            double,
            1,
            backend="trio",
            backend_options={"strict_exception_groups": False},
        )
    gc.collect()  # a "never awaited" RuntimeWarning would fail the test here


# bad input: all of it is rejected before a loop starts


@pytest.fixture
def no_loop_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an event loop was started")

    monkeypatch.setattr(asyncio, "new_event_loop", refuse)
    monkeypatch.setattr(uvloop, "new_event_loop", refuse)
    monkeypatch.setattr(trio, "run", refuse)


@pytest.mark.usefixtures("no_loop_starts")
def test_unknown_backend() -> None:
    with pytest.raises(
        LookupError, match=r"No such backend: 'curio'.*'asyncio', 'trio'"
    ):
        anyrun.run(double, 1, backend="curio")


def hide_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for module in list(sys.modules):
        if module == name or module.startswith(f"{name}."):
            monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_loop_starts")
def test_backend_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dispatch, "_loaded", {})
    monkeypatch.delitem(sys.modules, "anyrun._backends._trio", raising=False)
    hide_module(monkeypatch, "trio")
    with pytest.raises(LookupError, match=r'pip install "anyrun\[trio\]"'):
        anyrun.run(double, 1, backend="trio")
    assert anyrun.get_available_backends() == ("asyncio",)


def test_available_backends() -> None:
    assert anyrun.get_all_backends() == ("asyncio", "trio")
    assert anyrun.get_available_backends() == ("asyncio", "trio")


@pytest.mark.usefixtures("no_loop_starts")
def test_uvloop_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_module(monkeypatch, "uvloop")
    with pytest.raises(ModuleNotFoundError, match=r'pip install "anyrun\[uvloop\]"'):
        anyrun.run(double, 1, backend_options={"use_uvloop": True})


@pytest.mark.usefixtures("no_loop_starts")
@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("asyncio", "debug, loop_factory, use_uvloop"),
        ("trio", "clock, instruments, restrict_keyboard_interrupt_to_checkpoints"),
    ],
)
def test_unknown_option(name: str, valid: str) -> None:
    with pytest.raises(TypeError, match=rf"Unknown option .*: use_uvlop; .* {valid}"):
        anyrun.run(double, 1, backend=name, backend_options={"use_uvlop": True})


@pytest.mark.usefixtures("no_loop_starts")
def test_options_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="backend_options must be a dict"):
        anyrun.run(double, 1, backend_options=["debug"])  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_loop_starts")
@pytest.mark.parametrize("name", ["asyncio", "trio"])
def test_coroutine_object_shows_right_call(name: str) -> None:
    coro = double(1)
    with pytest.raises(
        TypeError,
        match=r"anyrun\.run\(double\(\.\.\.\)\)  ->  anyrun\.run\(double, \.\.\.\)",
    ):
        anyrun.run(coro, backend=name)  # type: ignore[arg-type]
    del coro
    gc.collect()  # a "never awaited" RuntimeWarning would fail the test here


@pytest.mark.usefixtures("no_loop_starts")
def test_sync_function() -> None:
    def main() -> int:
        return 1

    with pytest.raises(TypeError, match=r"main is a regular function.*async def main"):
        anyrun.run(main)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_loop_starts")
def test_not_callable() -> None:
    with pytest.raises(TypeError, match="got 42, which is not callable"):
        anyrun.run(42)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_loop_starts")
def test_async_generator_function() -> None:
    async def agen() -> Any:
        yield 1

    with pytest.raises(TypeError, match="agen is an async generator function"):
        anyrun.run(agen)


def test_lambda_returning_coroutine_is_accepted() -> None:
    assert anyrun.run(lambda: double(2)) == 4


@pytest.mark.parametrize("inner", ["asyncio", "trio"])
def test_already_running(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any], inner: str
) -> None:
    async def main() -> None:
        coro = double(1)
        with pytest.raises(
            RuntimeError, match=f"^Already running {name} in this thread$"
        ):
            anyrun.run(coro, backend=inner)  # type: ignore[arg-type]
        with pytest.raises(
            RuntimeError, match=f"^Already running {name} in this thread$"
        ):
            anyrun.run(double, 1, backend=inner)

    name, options = anyrun_backend_name, anyrun_backend_options
    anyrun.run(main, backend=name, backend_options=options)
    gc.collect()


def test_already_running_under_native_runs() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="Already running"):
            anyrun.run(double, 1)

    asyncio.run(main())
    trio.run(main)
