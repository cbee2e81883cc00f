"""anyrun.typer: async commands, callbacks and parameter functions in Typer apps, in
process with Typer's CliRunner, and as real subprocesses for Ctrl+C and the examples.

This module does not use "from __future__ import annotations": before Python 3.10,
Typer does not read ``Annotated`` in string annotations. That case has its own test.
"""

import asyncio
import importlib.util
import subprocess
import sys
import textwrap
import types
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, Callable, List

import pytest
import sniffio
import typer
from typer.testing import CliRunner

import anyrun
import anyrun.typer
from anyrun.typer import Typer
from command_helpers import ENV, VARIANTS, interrupt, no_never_awaited_warning

EXAMPLES = Path(__file__).parent.parent / "examples" / "typer"


def invoke(app: Typer, *args: str, **kwargs: Any) -> str:
    """Run ``app`` with ``args``; return its output, failing unless it succeeds."""
    result = CliRunner().invoke(app, list(args), **kwargs)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def recording(
    log: List[str], label: str, backend: str = "asyncio"
) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """An async_runner that notes ``label`` in ``log``, then runs on ``backend``."""
    run = anyrun.runner(backend)

    def async_runner(coro: Coroutine[Any, Any, Any]) -> Any:
        log.append(label)
        return run(coro)

    return async_runner


# The public module


def test_public_module() -> None:
    defined = {
        name
        for name, value in vars(anyrun.typer).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert anyrun.typer.__all__ == ("Typer", "run")
    assert sorted(anyrun.typer.__all__) == sorted(defined)
    assert Typer.__module__ == anyrun.typer.run.__module__ == "anyrun.typer"
    assert issubclass(Typer, typer.Typer)


def test_import_without_typer_names_the_extra() -> None:
    code = 'import sys; sys.modules["typer"] = None; import anyrun.typer'
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: anyrun.typer needs Typer, which is not installed; "
        'install it with: pip install "anyrun[typer]"'
    )


# Commands


def test_async_and_sync_commands(
    anyrun_backend_name: str, anyrun_backend_options: Any
) -> None:
    app = Typer(async_runner=anyrun.runner(anyrun_backend_name, anyrun_backend_options))

    @app.command()
    async def hello(name: str, count: int = 1) -> None:
        for _ in range(count):
            await anyrun.sleep(0)
            print(f"Hello {name} ({sniffio.current_async_library()})")

    @app.command()
    def plain(name: str) -> None:
        print(f"Plain {name}")

    output = invoke(app, "hello", "Camila", "--count", "2")
    assert output == f"Hello Camila ({anyrun_backend_name})\n" * 2
    assert invoke(app, "plain", "Ana") == "Plain Ana\n"


def test_uvloop_through_the_runner() -> None:
    import uvloop

    app = Typer(async_runner=anyrun.runner("asyncio", {"use_uvloop": True}))

    @app.command()
    async def loop() -> None:
        print(isinstance(asyncio.get_running_loop(), uvloop.Loop))

    assert invoke(app) == "True\n"


def test_default_runner_is_trio_when_installed() -> None:
    app = Typer()

    @app.command()
    async def library() -> None:
        await anyrun.sleep(0)
        print(sniffio.current_async_library())

    # trio is installed in the test environment.
    assert invoke(app) == "trio\n"


def test_decorators_return_the_original_function() -> None:
    app = Typer()

    async def command(name: str) -> str:
        await anyrun.sleep(0)
        return name

    async def callback() -> None:
        pass

    assert app.command()(command) is command
    assert app.callback()(callback) is callback
    # Still an async function: awaitable from async code.
    assert anyrun.run(command, "awaited") == "awaited"


def test_help_shows_async_command_parameters_and_docstring() -> None:
    app = Typer(rich_markup_mode=None)  # Click's plain help, easier to read back

    @app.command()
    async def greet(
        name: str,
        count: Annotated[int, typer.Option(help="How many times.")] = 1,
        formal: bool = False,
    ) -> None:
        """Greet NAME, asynchronously."""

    @app.command()
    def other() -> None:
        pass

    output = invoke(app, "greet", "--help").replace("\\[", "[")  # Typer 0.15.0
    lines = [line.split() for line in output.splitlines()]
    assert ["Usage:", "root", "greet", "[OPTIONS]"] in [line[:4] for line in lines]
    assert ["Greet", "NAME,", "asynchronously."] in lines
    [name] = [line for line in lines if line and line[0].lower() == "name"]
    assert "[required]" in name
    [count] = [line for line in lines if line and line[0] == "--count"]
    assert count[-5:] == ["How", "many", "times.", "[default:", "1]"]
    assert any(line[:3] == ["--formal", "/", "--no-formal"] for line in lines)


def test_context_and_return_value() -> None:
    app = Typer()

    @app.command()
    async def main(ctx: typer.Context, name: str) -> str:
        await anyrun.sleep(0)
        return f"{ctx.params} {name}"

    # standalone_mode=False returns what the command returned.
    assert app(["Ana"], standalone_mode=False) == "{'name': 'Ana'} Ana"


# Choosing the runner


def test_decorator_runner_wins_over_app_runner() -> None:
    log: List[str] = []
    app = Typer(async_runner=recording(log, "app"))

    @app.callback(async_runner=recording(log, "callback"))
    async def main() -> None:
        pass

    @app.command()
    async def first() -> None:
        pass

    @app.command(async_runner=recording(log, "second"))
    async def second() -> None:
        pass

    invoke(app, "first")
    invoke(app, "second")
    assert log == ["callback", "app", "callback", "second"]


def test_sub_apps_inherit_the_runner_unless_they_set_their_own() -> None:
    log: List[str] = []
    app = Typer(async_runner=recording(log, "app"))
    middle = Typer()
    leaf = Typer()
    own = Typer(async_runner=recording(log, "own"))

    async def command() -> None:
        pass

    async def callback() -> None:
        log.append("(callback)")

    leaf.command("leaf")(command)
    leaf.command("other")(command)
    own.command("own")(command)
    own.command("other")(command)
    # Added before middle has a parent: the runner is looked up when it runs.
    middle.add_typer(leaf, name="leaf", callback=callback)
    app.add_typer(middle, name="middle")
    app.add_typer(own, name="own")

    invoke(app, "middle", "leaf", "leaf")
    assert log == ["app", "(callback)", "app"]
    log.clear()
    invoke(app, "own", "own")
    assert log == ["own"]


def test_plain_typer_sub_app_with_async_command_is_refused() -> None:
    app = Typer()
    plain = typer.Typer()

    @plain.command()
    async def command() -> None:
        pass

    with pytest.raises(TypeError, match=r"create it with anyrun.typer.Typer\(\)"):
        app.add_typer(plain, name="plain")


def test_plain_typer_sub_app_with_sync_commands_works() -> None:
    app = Typer()
    plain = typer.Typer()
    plain.command("one")(lambda: print("one"))
    plain.command("two")(lambda: print("two"))
    app.add_typer(plain, name="plain")

    @app.command()
    async def other() -> None:
        pass

    assert invoke(app, "plain", "two") == "two\n"


def test_any_async_runner_works() -> None:
    app = Typer(async_runner=asyncio.run)

    @app.command()
    async def main() -> None:
        print(sniffio.current_async_library())

    assert invoke(app) == "asyncio\n"


def test_mixed_engines_in_one_invocation() -> None:
    app = Typer(async_runner=anyrun.runner("asyncio"))

    @app.callback(async_runner=anyrun.runner("trio"))
    async def main(ctx: typer.Context) -> None:
        await anyrun.sleep(0)
        ctx.obj = sniffio.current_async_library()

    @app.command()
    async def command(ctx: typer.Context) -> None:
        await anyrun.sleep(0)
        print(f"callback on {ctx.obj}, command on {sniffio.current_async_library()}")

    @app.command()
    def other() -> None:
        pass

    assert invoke(app, "command") == "callback on trio, command on asyncio\n"


# Every function Typer calls


def test_async_callbacks_given_as_arguments() -> None:
    log: List[str] = []

    async def app_callback() -> None:
        await anyrun.sleep(0)
        log.append("app callback")

    async def sub_callback() -> None:
        await anyrun.sleep(0)
        log.append("sub callback")

    async def results(values: List[Any]) -> None:
        await anyrun.sleep(0)
        log.append(f"results {values}")

    app = Typer(callback=app_callback, result_callback=results)
    sub = Typer()
    app.add_typer(sub, name="sub", callback=sub_callback)

    @sub.command()
    async def command() -> str:
        return "value"

    @sub.command()
    def other() -> None:
        pass

    invoke(app, "sub", "command")
    assert log == ["app callback", "sub callback", "results value"]


def test_async_result_callback_of_callback() -> None:
    log: List[Any] = []

    async def results(value: Any, verbose: bool) -> None:
        await anyrun.sleep(0)
        log.append((value, verbose))

    app = Typer()

    @app.callback(result_callback=results)
    async def main(verbose: bool = False) -> None:
        pass

    @app.command()
    async def command() -> int:
        return 42

    invoke(app, "--verbose", "command")
    assert log == [(42, True)]


async def double(value: int) -> int:
    await anyrun.sleep(0)
    return value * 2


async def shout(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    await anyrun.sleep(0)
    return f"{value.upper()} ({param.name}, {sniffio.current_async_library()})"


def test_async_parameter_callbacks() -> None:
    option = typer.Option(callback=double)
    app = Typer(async_runner=anyrun.runner("asyncio"))

    @app.command()
    async def command(
        name: Annotated[str, typer.Argument(callback=shout)],
        count: int = option,
        size: Annotated[int, typer.Option(callback=double)] = 1,
    ) -> None:
        print(name, count, size)

    @app.command()
    def sync_command(size: Annotated[int, typer.Option(callback=double)] = 1) -> None:
        print(size)

    output = invoke(app, "command", "ana", "--count", "2", "--size", "3")
    assert output == "ANA (name, asyncio) 4 6\n"
    assert invoke(app, "sync-command", "--size", "5") == "10\n"
    # The user's objects are left as they were; Typer gets copies.
    assert option.callback is double


def test_async_autocompletion() -> None:
    async def names(incomplete: str) -> List[str]:
        await anyrun.sleep(0)
        names = ("Camila", "Carlos", "Ana")
        return [name for name in names if name.startswith(incomplete)]

    app = Typer()

    @app.command()
    async def command(
        name: Annotated[str, typer.Option(autocompletion=names)] = "",
    ) -> None:
        pass

    env = {
        "_DEMO_COMPLETE": "complete_bash",
        "COMP_WORDS": "demo --name Ca",
        "COMP_CWORD": "2",
    }
    assert invoke(app, env=env, prog_name="demo").split() == ["Camila", "Carlos"]


def test_string_annotations(tmp_path: Path) -> None:
    module = load_module(
        tmp_path,
        """
        from __future__ import annotations

        from typing import Annotated

        import typer

        import anyrun
        from anyrun.typer import Typer

        app = Typer(async_runner=anyrun.runner("asyncio"))

        async def double(value: int) -> int:
            await anyrun.sleep(0)
            return value * 2

        @app.command()
        async def command(
            size: Annotated[int, typer.Option(callback=double)] = 1,
            later: Later = "x",
        ) -> None:
            print(size, later)

        Later = str  # defined after the command: Typer resolves it when it builds
        """,
    )
    output = invoke(module.app, "--size", "4", "--later", "y")
    # Before Python 3.10, Typer does not read Annotated in string annotations at all,
    # so --size is a plain option there, without its callback.
    assert output == ("8 y\n" if sys.version_info >= (3, 10) else "4 y\n")


def load_module(tmp_path: Path, source: str) -> Any:
    path = tmp_path / "cli_module.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location("cli_module", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# typer.run()


def test_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main(name: str, formal: bool = False) -> None:
        await anyrun.sleep(0)
        greeting = "Good day" if formal else "Hi"
        print(f"{greeting} {name} ({sniffio.current_async_library()})")

    monkeypatch.setattr(sys, "argv", ["prog", "Ana", "--formal"])
    with pytest.raises(SystemExit) as exit_info:
        anyrun.typer.run(main)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == "Good day Ana (trio)\n"

    with pytest.raises(SystemExit):
        anyrun.typer.run(main, async_runner=anyrun.runner("asyncio"))
    assert capsys.readouterr().out == "Good day Ana (asyncio)\n"


# Inside a running event loop


@pytest.mark.anyrun
async def test_in_a_running_loop_raises_without_warning(
    anyrun_backend_name: str,
) -> None:
    app = Typer()

    async def check(value: int) -> int:
        return value

    @app.command()
    async def hello(count: int = typer.Option(1, callback=check)) -> None:
        pass

    with no_never_awaited_warning():
        with pytest.raises(
            RuntimeError,
            match=rf"Cannot run check\(\) here: {anyrun_backend_name} is already",
        ):
            app([], standalone_mode=False)
        result = CliRunner().invoke(app, [])
    assert isinstance(result.exception, RuntimeError)


def test_refusing_custom_runner_leaves_no_warning() -> None:
    # asyncio.run() refuses to start inside a running loop and does not close the
    # coroutine it was given; anyrun.typer closes it.
    app = Typer(async_runner=asyncio.run)

    @app.command()
    async def hello() -> None:
        pass

    async def main() -> None:
        app([], standalone_mode=False)

    with (
        no_never_awaited_warning(),
        pytest.raises(RuntimeError, match="cannot be called from a running"),
    ):
        asyncio.run(main())


# Ctrl+C, for real


TYPER_CHILD = """
import sys
import anyrun
from anyrun.typer import Typer

backend, variant = sys.argv.pop(1), sys.argv.pop(1)
options = {"use_uvloop": True} if variant == "uvloop" else None
app = Typer(async_runner=anyrun.runner(backend, options))

@app.command()
async def main() -> None:
    try:
        print("ready", flush=True)
        await anyrun.sleep_forever()
    finally:
        print("cleanup", flush=True)

app()
"""


@pytest.mark.parametrize(("backend", "variant"), VARIANTS)
def test_ctrl_c_runs_finally_and_exits_130(backend: str, variant: str) -> None:
    returncode, out, err = interrupt(TYPER_CHILD, backend, variant)
    assert (returncode, out) == (130, "cleanup\n"), err
    assert "Traceback" not in err


# The examples, as real programs, on every backend each can run on

# Runs an example as its own __main__, on a chosen backend: "asyncio" hides trio, so
# that the default engine is asyncio; "+uvloop" makes asyncio's default loop uvloop's
# and notes each loop it makes on standard error.
LAUNCHER = """
import runpy, sys

variant = sys.argv.pop(1)
if variant.startswith("asyncio"):
    sys.modules["trio"] = None
if variant.endswith("+uvloop"):
    import asyncio, uvloop

    class Policy(uvloop.EventLoopPolicy):
        def new_event_loop(self):
            print("[uvloop]", file=sys.stderr, flush=True)
            return super().new_event_loop()

    asyncio.set_event_loop_policy(Policy())
sys.argv.pop(0)
runpy.run_path(sys.argv[0], run_name="__main__")
"""

ALL = ("asyncio", "asyncio+uvloop", "trio")
ASYNCIO = ("asyncio", "asyncio+uvloop")
# (example, arguments, the variants it runs on, its output with {} for the backend)
EXAMPLE_RUNS = [
    ("tutorial001.py", "Camila", ASYNCIO, "Hello Camila\n"),
    ("tutorial002.py", "Camila", ALL, "Hello Camila ({})\n"),
    ("tutorial003.py", "hello Camila", ("asyncio",), "Hello Camila\n"),  # no loop
    ("tutorial003.py", "wait --seconds 0.02", ASYNCIO, "Waited 0.02 s\n"),
    ("tutorial004.py", "hello Camila", ALL, "Hello Camila ({})\n"),
    ("tutorial004.py", "goodbye Ana --formal", ALL, "Goodbye Ana ({})\n"),
    ("tutorial005.py", "Camila --count 2", ("trio",), "Hello Camila (trio)\n" * 2),
    # The callback is on trio: trio stays visible for these two.
    (
        "tutorial006.py",
        "--verbose hello Camila",
        ("trio", "trio+uvloop"),
        "Starting (trio)\nHello Camila (asyncio)\n",
    ),
    ("tutorial007.py", "hello Camila", ALL, "Hello Camila ({})\n"),
    (
        "tutorial007.py",
        "fetch https://example.com",
        ALL,
        "Fetched https://example.com (asyncio)\n",
    ),
    ("tutorial008.py", "loop", ("as written",), "Running on uvloop\n"),
    (
        "tutorial008.py",
        "users create Camila",
        ("as written",),
        "Created user Camila (uvloop)\n",
    ),
]


@pytest.mark.parametrize(
    ("example", "arguments", "variant", "expected"),
    [
        pytest.param(
            example, arguments, variant, expected, id=f"{example}-{arguments}-{variant}"
        )
        for example, arguments, variants, expected in EXAMPLE_RUNS
        for variant in variants
    ],
)
def test_example(
    tmp_path: Path, example: str, arguments: str, variant: str, expected: str
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LAUNCHER,
            variant,
            str(EXAMPLES / example),
            *arguments.split(),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.format(variant.partition("+")[0])
    uvloop_loops = result.stderr.count("[uvloop]")
    assert (uvloop_loops > 0) == variant.endswith("+uvloop"), result.stderr


def test_every_example_is_run() -> None:
    run = {example for example, *_ in EXAMPLE_RUNS}
    assert run == {path.name for path in EXAMPLES.glob("tutorial*.py")}
    assert len(run) == 8
