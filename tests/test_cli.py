"""The command line, ``python -m anyrun``.

Exit statuses, output and Ctrl+C are checked in real subprocesses; the finer points
call ``main(argv)`` in this process, which is much faster.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

import anyrun
from anyrun._core._cli import main

REPO = Path(__file__).resolve().parents[1]

BACKEND_FLAGS = [
    pytest.param([], "asyncio", id="asyncio"),
    pytest.param(["--uvloop"], "asyncio", id="asyncio+uvloop"),
    pytest.param(["--backend", "trio"], "trio", id="trio"),
]

TARGET = """\
from __future__ import annotations

import asyncio
import dataclasses
import pickle

import sniffio

import anyrun


async def echo(*args):
    await anyrun.sleep(0)
    return f"{args!r} on {sniffio.current_async_library()}"


async def nothing():
    await anyrun.sleep(0)


async def status(code):
    return int(code)


async def exit_with(code):
    raise SystemExit(int(code))


async def fail():
    await anyrun.sleep(0)
    raise ValueError("boom")


async def missing_key():
    return {}["key"]


def not_async():
    pass


async def not_a_coroutine():
    yield


async def loop_class():
    return type(asyncio.get_running_loop()).__module__


async def debug():
    return asyncio.get_running_loop().get_debug()


@dataclasses.dataclass
class Point:
    x: int


async def pickled():
    return pickle.loads(pickle.dumps(Point(1)))


async def forever():
    try:
        print("ready", flush=True)
        await anyrun.sleep_forever()
    finally:
        print("cleanup", flush=True)


async def forever_in_nursery():
    import trio

    async with trio.open_nursery() as nursery:
        nursery.start_soon(forever)
"""


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """``target.py``, a module of entry points, in ``tmp_path``."""
    path = tmp_path / "target.py"
    path.write_text(TARGET)
    return path


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Undo what ``main()`` does to this process: the entries it puts on
    :data:`sys.path` and the modules it loads from ``tmp_path``."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None)).startswith(str(tmp_path)):
            del sys.modules[name]


def run_cli(
    *args: str, cwd: Path = REPO, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(pythonpath), env.get("PYTHONPATH")])
        )
    return subprocess.run(
        [sys.executable, "-m", "anyrun", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("anyrun: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(("flags", "library"), BACKEND_FLAGS)
def test_hello(flags: list[str], library: str) -> None:
    result = run_cli("examples/hello.py:main", *flags)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"hello world from {library}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["{target}:echo", "a b", "--backend", "trio", "-1", "--", "--uvloop", "--"],
        ["--backend", "trio", "--", "{target}:echo", "a b", "-1", "--uvloop", "--"],
    ],
    ids=["target-first", "options-first"],
)
def test_arguments_are_strings_and_options_go_anywhere(
    target: Path, argv: list[str]
) -> None:
    result = run_cli(*(arg.format(target=target) for arg in argv))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "('a b', '-1', '--uvloop', '--') on trio\n"


def test_an_int_returned_is_the_exit_status(target: Path) -> None:
    result = run_cli(f"{target}:status", "7")
    assert (result.returncode, result.stdout, result.stderr) == (7, "", "")


@pytest.mark.parametrize(("flags", "library"), BACKEND_FLAGS)
def test_an_exception_prints_the_users_traceback(
    target: Path, flags: list[str], library: str
) -> None:
    result = run_cli(f"{target}:fail", *flags)
    assert (result.returncode, result.stdout) == (1, "")
    line = TARGET.splitlines().index('    raise ValueError("boom")') + 1
    first_frame = result.stderr.splitlines()[1]
    assert first_frame == f'  File "{target}", line {line}, in fail', result.stderr
    assert result.stderr.endswith('    raise ValueError("boom")\nValueError: boom\n')
    assert os.path.dirname(anyrun.__file__) not in result.stderr


def test_a_missing_key_is_not_mistaken_for_a_missing_backend(target: Path) -> None:
    # KeyError is a LookupError, as are anyrun.run()'s own errors.
    result = run_cli(f"{target}:missing_key")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.endswith("KeyError: 'key'\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["{target}:not_async"],
            "'not_async' in file '{target}' is a regular function, not an async "
            "function; declare it with 'async def not_async'",
            id="not-async",
        ),
        pytest.param(
            ["{target}:not_a_coroutine"],
            "is an async generator function, not an async function",
            id="async-generator",
        ),
        pytest.param(
            ["no_such_module_xyz:main"],
            "no module named 'no_such_module_xyz'",
            id="missing-module",
        ),
        pytest.param(
            ["no_such_package_xyz.mod:main"],
            "no module named 'no_such_package_xyz'",
            id="missing-package",
        ),
        pytest.param(
            ["no_such_file.py:main"], "no such file: 'no_such_file.py'", id="no-file"
        ),
        pytest.param(
            ["{target}:mian"],
            "has no function 'mian'; its async functions are: debug, echo, ",
            id="missing-function",
        ),
        pytest.param(
            ["{target}"], "expected MODULE:FUNCTION or FILE.py:FUNCTION", id="no-colon"
        ),
        pytest.param([], "missing MODULE:FUNCTION", id="no-target"),
        pytest.param(
            ["--backend", "curio", "{target}:echo"],
            "invalid choice: 'curio'",
            id="unknown-backend",
        ),
        pytest.param(
            ["--backend", "trio", "--uvloop", "{target}:echo"],
            "--uvloop is an event loop for asyncio",
            id="uvloop-on-trio",
        ),
        pytest.param(
            ["{target}:echo", "--debug", "--backend", "trio"],
            "--debug turns on asyncio's debug mode, which trio does not have",
            id="debug-on-trio",
        ),
        pytest.param(
            ["{target}:status"],
            "cannot call status(code) with 0 arguments: missing a required argument",
            id="too-few-arguments",
        ),
        pytest.param(["{target}:echo", "-x"], "unrecognized arguments: -x", id="-x"),
    ],
)
def test_usage_errors_take_one_line(
    target: Path, args: list[str], message: str
) -> None:
    result = run_cli(*(arg.format(target=target) for arg in args), cwd=target.parent)
    assert_usage_error(result, message.format(target=target))


@pytest.mark.parametrize(
    ("module", "flags", "extra"),
    [("trio", ["--backend", "trio"], "trio"), ("uvloop", ["--uvloop"], "uvloop")],
)
def test_a_backend_not_installed_is_a_usage_error(
    target: Path, tmp_path: Path, module: str, flags: list[str], extra: str
) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / f"{module}.py").write_text(
        f'raise ModuleNotFoundError("No module named {module!r}", name={module!r})\n'
    )
    result = run_cli(f"{target}:echo", *flags, pythonpath=hidden)
    assert_usage_error(result, f'pip install "anyrun[{extra}]"')


@pytest.mark.parametrize("location", ["dependent", "dependent.py"])
def test_a_missing_dependency_is_an_error_in_the_users_code(
    tmp_path: Path, location: str
) -> None:
    (tmp_path / "dependent.py").write_text(
        "import no_such_dependency_xyz\n\nasync def main():\n    pass\n"
    )
    result = run_cli(f"{location}:main", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path / "dependent.py"}", line 1, in <module>\n'
        "    import no_such_dependency_xyz\n"
        "ModuleNotFoundError: No module named 'no_such_dependency_xyz'\n"
    )


def test_backends_lists_each_with_its_version() -> None:
    result = run_cli("--backends")
    assert (result.returncode, result.stderr) == (0, "")
    rows = [line.split()[:3] for line in result.stdout.splitlines()]
    assert rows == [
        ["backend", "installed", "version"],
        ["asyncio", "yes", platform.python_version()],
        ["trio", "yes", metadata.version("trio")],
        ["uvloop", "yes", metadata.version("uvloop")],
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
@pytest.mark.parametrize(
    ("flags", "entry"),
    [
        pytest.param([], "forever", id="asyncio"),
        pytest.param(["--uvloop"], "forever", id="asyncio+uvloop"),
        pytest.param(["--backend", "trio"], "forever", id="trio"),
        pytest.param(["--backend", "trio"], "forever_in_nursery", id="trio-nursery"),
    ],
)
def test_ctrl_c_cleans_up_and_exits_with_130(
    target: Path, flags: list[str], entry: str
) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "anyrun", *flags, f"{target}:{entry}"],
        cwd=target.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            ready = process.stdout.readline()  # then it is inside its try block
            if ready == "ready\n":
                process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert ready == "ready\n", stderr
    assert (process.returncode, stdout, stderr) == (130, "cleanup\n", "Aborted!\n")


# In process


@pytest.mark.usefixtures("in_process")
def test_main_prints_what_is_not_an_int(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([f"{target}:echo", "x"]) == 0
    assert capsys.readouterr().out == "('x',) on asyncio\n"


@pytest.mark.usefixtures("in_process")
def test_main_prints_nothing_for_none(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([f"{target}:nothing"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.usefixtures("in_process")
def test_system_exit_raised_inside_propagates(target: Path) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main([f"{target}:exit_with", "3"])
    assert exc_info.value.code == 3


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("flags", "module"), [([], "asyncio"), (["--uvloop"], "uvloop")]
)
def test_uvloop_option(
    target: Path, flags: list[str], module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*flags, f"{target}:loop_class"]) == 0
    assert capsys.readouterr().out.startswith(module)


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(("flags", "debug"), [([], "False"), (["--debug"], "True")])
def test_debug_option(
    target: Path, flags: list[str], debug: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # debug() returns a bool, which is printed: True is no exit status 1.
    assert main([f"{target}:debug", *flags]) == 0
    assert capsys.readouterr().out == f"{debug}\n"


@pytest.mark.usefixtures("in_process")
def test_a_file_is_a_module_that_pickle_and_dataclasses_find(
    target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([f"{target}:pickled"]) == 0
    assert capsys.readouterr().out == "Point(x=1)\n"


@pytest.mark.usefixtures("in_process")
def test_a_module_is_imported_from_the_current_directory(
    target: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(target.parent)
    assert main(["target:echo", "x"]) == 0
    assert capsys.readouterr().out == "('x',) on asyncio\n"


@pytest.mark.usefixtures("in_process")
def test_a_file_named_like_an_imported_module_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "argparse.py"
    path.write_text("async def main():\n    pass\n")
    assert main([f"{path}:main"]) == 2
    assert "a module of that name is already imported" in capsys.readouterr().err


@pytest.mark.usefixtures("in_process")
def test_a_syntax_error_shows_no_importlib_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.py"
    path.write_text("async def main(:\n    pass\n")
    assert main([f"{path}:main"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'  File "{path}", line 1\n')
    assert "SyntaxError" in err


def test_backends_says_how_to_install_a_missing_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    version = metadata.version

    def version_without_trio(name: str) -> str:
        if name == "trio":
            raise metadata.PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(metadata, "version", version_without_trio)
    assert main(["--backends"]) == 0
    trio_row = capsys.readouterr().out.splitlines()[2]
    assert trio_row.split()[:3] == ["trio", "no", "-"]
    assert trio_row.endswith('install it with: pip install "anyrun[trio]"')


def test_help_explains_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(["--help"])
    assert exc_info.value.code == 0
    out = capsys.readouterr().out
    for text in ("python -m anyrun examples/hello.py:main", "--backends", "130"):
        assert text in out
