"""anyrun.runner() and anyrun.entrypoint, alone and under Click: in process with
Click's CliRunner, and in real subprocesses for the default engine and Ctrl+C."""

from __future__ import annotations

import asyncio
import functools
import inspect
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import click
import pytest
import sniffio
from click.testing import CliRunner

import anyrun
from anyrun._core import _entrypoint
from command_helpers import ENV, VARIANTS, interrupt, no_never_awaited_warning


class Greeting:
    """A type defined in this module, for string annotations to resolve to."""

    def __init__(self, text: str) -> None:
        self.text = text


async def greet(name: str, *, punctuation: str = "!") -> Greeting:
    """Greet someone, from the running event loop."""
    await anyrun.sleep(0)
    return Greeting(f"Hello {name}{punctuation} ({sniffio.current_async_library()})")


# runner()


def test_runner_returns_the_result(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    run = anyrun.runner(anyrun_backend_name, anyrun_backend_options)
    greeting = run(greet("Camila"))
    assert greeting.text == f"Hello Camila! ({anyrun_backend_name})"


def test_runner_passes_backend_options() -> None:
    import uvloop

    async def loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    run = anyrun.runner("asyncio", {"use_uvloop": True})
    assert isinstance(run(loop()), uvloop.Loop)
    assert not isinstance(anyrun.runner("asyncio")(loop()), uvloop.Loop)


def test_runner_is_equivalent_to_run() -> None:
    direct = anyrun.run(functools.partial(greet, "Ana"), backend="trio")
    assert anyrun.runner(backend="trio")(greet("Ana")).text == direct.text


def test_runner_propagates_exceptions_and_closes_nothing_twice() -> None:
    async def fail() -> None:
        await anyrun.sleep(0)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        anyrun.runner("asyncio")(fail())


def test_default_backend_is_trio_when_installed() -> None:
    # trio is installed in the test environment.
    assert anyrun.runner()(greet("Bo")).text == "Hello Bo! (trio)"


DEFAULT_ENGINE = """
import sys
if sys.argv[1] == "no-trio":
    sys.modules["trio"] = None  # as if trio were not installed
import anyrun, sniffio
from anyrun._core._entrypoint import default_backend

print(default_backend(), sys.modules.get("trio") is not None)

async def main():
    return sniffio.current_async_library()

print(anyrun.runner()(main()))
"""


@pytest.mark.parametrize(
    ("installed", "expected"),
    [("trio", ["trio False", "trio"]), ("no-trio", ["asyncio False", "asyncio"])],
)
def test_default_engine_table(installed: str, expected: list[str]) -> None:
    # Deciding looks for trio without importing it.
    result = subprocess.run(
        [sys.executable, "-c", DEFAULT_ENGINE, installed],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    )
    assert result.stdout.splitlines() == expected


def test_default_backend_is_decided_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def available() -> tuple[str, ...]:
        calls.append(1)
        return ("asyncio",)

    monkeypatch.setattr(_entrypoint, "get_available_backends", available)
    monkeypatch.setattr(_entrypoint, "_default_backend", None)
    assert _entrypoint.default_backend() == "asyncio"
    assert _entrypoint.default_backend() == "asyncio"
    assert calls == [1]


def test_runner_options_need_a_backend() -> None:
    with pytest.raises(TypeError, match=r"runner\(backend='asyncio', backend_opt"):
        anyrun.runner(backend_options={"use_uvloop": True})


def test_runner_rejects_an_unknown_backend_at_once() -> None:
    with pytest.raises(LookupError, match="No such backend: 'trioo'"):
        anyrun.runner("trioo")


def test_runner_rejects_a_function() -> None:
    with pytest.raises(TypeError, match=r"async_runner\(greet\)  ->  async_runner"):
        anyrun.runner()(greet)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a coroutine object, not 42"):
        anyrun.runner()(42)  # type: ignore[arg-type]


def test_runner_closes_a_coroutine_run_refuses() -> None:
    coro = greet("Camila")
    with no_never_awaited_warning():
        with pytest.raises(TypeError, match="Unknown option for the trio backend"):
            anyrun.runner("trio", {"use_uvloop": True})(coro)
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
        del coro


@pytest.mark.anyrun
async def test_runner_in_a_running_loop_raises_and_closes(
    anyrun_backend_name: str,
) -> None:
    coro = greet("Camila")
    with no_never_awaited_warning():
        with pytest.raises(
            RuntimeError,
            match=rf"Cannot run greet\(\) here: {anyrun_backend_name} is already "
            r"running .* \(await greet\(\.\.\.\)\)",
        ):
            anyrun.runner()(coro)
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
        del coro


# entrypoint


def test_entrypoint_bare_keeps_name_docstring_signature_and_hints() -> None:
    sync_greet = anyrun.entrypoint(greet)
    assert sync_greet.__name__ == "greet"
    assert sync_greet.__doc__ == greet.__doc__
    assert inspect.signature(sync_greet) == inspect.signature(greet)
    assert not inspect.iscoroutinefunction(sync_greet)
    # This module uses "from __future__ import annotations": the strings resolve.
    assert typing.get_type_hints(sync_greet) == {
        "name": str,
        "punctuation": str,
        "return": Greeting,
    }
    assert sync_greet("Ana", punctuation="?").text.startswith("Hello Ana? (")


def test_entrypoint_with_arguments(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    decorate = anyrun.entrypoint(
        backend=anyrun_backend_name, backend_options=anyrun_backend_options
    )
    assert decorate(greet)("Ana").text == f"Hello Ana! ({anyrun_backend_name})"


def test_entrypoint_with_empty_parentheses_uses_the_default() -> None:
    assert anyrun.entrypoint()(greet)("Ana").text == "Hello Ana! (trio)"


def test_entrypoint_accepts_wrapped_async_functions() -> None:
    partial = functools.partial(greet, punctuation=".")
    assert anyrun.entrypoint(partial)("Ana").text.startswith("Hello Ana. (")

    class Greeter:
        async def __call__(self, name: str) -> str:
            await anyrun.sleep(0)
            return name

    assert anyrun.entrypoint(Greeter())("Bo") == "Bo"


def test_entrypoint_rejects_a_regular_function() -> None:
    def main() -> None:
        pass

    with pytest.raises(TypeError, match=r"declare it with 'async def main\(\.\.\.\)'"):
        anyrun.entrypoint(main)  # type: ignore[arg-type]


def test_entrypoint_rejects_a_coroutine_object() -> None:
    coro = greet("Ana")
    with no_never_awaited_warning():
        with pytest.raises(TypeError, match=r"entrypoint\(greet\(\.\.\.\)\)  ->  "):
            anyrun.entrypoint(coro)  # type: ignore[call-overload]
        assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
        del coro


def test_entrypoint_rejects_a_positional_backend() -> None:
    with pytest.raises(TypeError, match=r"@anyrun.entrypoint\(backend='trio'\)"):
        anyrun.entrypoint("trio")  # type: ignore[call-overload]


def test_entrypoint_rejects_a_click_command() -> None:
    with pytest.raises(TypeError, match=r"below @click\.command\(\)"):

        @anyrun.entrypoint  # type: ignore[arg-type]
        @click.command()
        async def main() -> None:
            pass


# Under Click


@click.command()
@click.argument("name")
@click.option("--count", default=1, help="How many times.")
@anyrun.entrypoint
async def hello(name: str, count: int) -> None:
    """Say hello to NAME, slowly."""
    for _ in range(count):
        await anyrun.sleep(0)
        click.echo(f"Hello {name} ({sniffio.current_async_library()})")


def test_click_command_runs_async_function() -> None:
    result = CliRunner().invoke(hello, ["Camila", "--count", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello Camila (trio)\n" * 2


def test_click_help_shows_parameters_and_docstring() -> None:
    result = CliRunner().invoke(hello, ["--help"])
    assert result.exit_code == 0
    assert "Usage: hello [OPTIONS] NAME" in result.output
    assert "Say hello to NAME, slowly." in result.output
    assert "--count INTEGER  How many times." in result.output


def test_click_options_above_and_below_entrypoint(
    anyrun_backend_name: str, anyrun_backend_options: dict[str, Any]
) -> None:
    @click.command()
    @click.option("--first")
    @anyrun.entrypoint(
        backend=anyrun_backend_name, backend_options=anyrun_backend_options
    )
    @click.option("--second")
    @click.pass_context
    async def main(ctx: click.Context, first: str, second: str) -> None:
        await anyrun.sleep(0)
        click.echo(f"{ctx.command.name} {first} {second}")
        click.echo(sniffio.current_async_library())

    result = CliRunner().invoke(main, ["--first", "1", "--second", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["main 1 2", anyrun_backend_name]


@pytest.mark.anyrun
async def test_click_command_in_a_running_loop() -> None:
    with no_never_awaited_warning():
        result = CliRunner().invoke(hello, ["Camila"])
    assert isinstance(result.exception, RuntimeError)
    assert "Cannot run hello() here" in str(result.exception)


# Ctrl+C, for real


CLICK_CHILD = """
import sys
import click
import anyrun

backend, variant = sys.argv.pop(1), sys.argv.pop(1)
options = {"use_uvloop": True} if variant == "uvloop" else None

@click.command()
@anyrun.entrypoint(backend=backend, backend_options=options)
async def main() -> None:
    try:
        print("ready", flush=True)
        await anyrun.sleep_forever()
    finally:
        print("cleanup", flush=True)

main()
"""


@pytest.mark.parametrize(("backend", "variant"), VARIANTS)
def test_click_ctrl_c_runs_finally_and_aborts(backend: str, variant: str) -> None:
    # Click's standalone mode turns KeyboardInterrupt into "Aborted!" and status 1,
    # as for its synchronous commands (Typer's is 130: see test_typer.py).
    status, out, err = interrupt(CLICK_CHILD, backend, variant)
    assert (status, out) == (1, "cleanup\n"), err
    assert err.strip() == "Aborted!"


def test_click_example(tmp_path: Path) -> None:
    example = Path(__file__).parent.parent / "examples" / "typer" / "click_command.py"
    result = subprocess.run(
        [sys.executable, str(example), "Camila", "--count", "2"],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
        cwd=tmp_path,
    )
    assert result.stdout == "Hello Camila (trio)\n" * 2
