"""The command line, ``python -m anyrun``: import an async function and run it.

Only ``anyrun/__main__.py`` imports this module, so ``import anyrun`` never pays for
argparse and inspect.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import platform
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from types import FrameType, ModuleType, TracebackType
from typing import Any, NoReturn, cast

import anyrun

from ._dispatch import BACKENDS

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

USAGE = """\
python -m anyrun [--backend {asyncio,trio}] [--uvloop] [--debug]
                        MODULE:FUNCTION [ARGS ...]
       python -m anyrun --backends"""

DESCRIPTION = """\
Run an async function with anyrun.run(), on asyncio, asyncio with uvloop, or trio.
Options may come before or after MODULE:FUNCTION; everything after -- is an argument
of the function."""

EPILOG = """\
The function's return value makes the exit status: None gives 0, an int (not a bool)
is the status itself, and anything else is printed and gives 0. An exception prints
its traceback and gives 1; Ctrl+C gives 130; a mistake on the command line gives 2.

examples:
  python -m anyrun examples/hello.py:main                  hello world from asyncio
  python -m anyrun examples/hello.py:main Alice --uvloop   asyncio on uvloop
  python -m anyrun --backend trio examples/hello.py:main   on trio
  python -m anyrun myapp.server:serve 8080 -- --verbose    a module, and an argument
                                                           that looks like an option"""


class UsageError(Exception):
    """Raised for a mistake on the command line, reported in one line with status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, without argparse's usage block: every message says what to change.
        raise UsageError(message)


def _make_parser() -> _Parser:
    parser = _Parser(
        prog="anyrun",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="MODULE:FUNCTION",
        help="the async function to run: a module and a function in it "
        "(myapp.server:serve), imported with the current directory first on "
        "sys.path; or a .py file and a function in it (examples/hello.py:main), "
        "loaded like a script",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="ARGS",
        help="positional arguments for the function, passed as strings",
    )
    parser.add_argument(
        "--backend",
        default="asyncio",
        choices=anyrun.get_all_backends(),
        help="the async library to run on (default: %(default)s)",
    )
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="run asyncio on uvloop's event loop",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="turn on asyncio's debug mode",
    )
    parser.add_argument(
        "--backends",
        action="store_true",
        help="list the backends, whether each is installed and its version, and exit",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m anyrun`` with the command-line arguments ``argv`` (by default
    ``sys.argv[1:]``) and return the exit status; a :exc:`SystemExit` raised by
    ``--help`` or by the function itself propagates."""
    try:
        return _run_command(sys.argv[1:] if argv is None else list(argv))
    except UsageError as exc:
        print(f"anyrun: error: {exc}", file=sys.stderr)
        return 2
    except BaseException as exc:
        if not _is_ctrl_c(exc):
            raise
        print("Aborted!", file=sys.stderr)
        return 130


def _run_command(argv: list[str]) -> int:
    # Split at "--" before argparse sees it: how argparse treats "--" among intermixed
    # arguments differs between Python versions (3.11 parses options after it).
    rest: list[str] = []
    if "--" in argv:
        end = argv.index("--")
        argv, rest = argv[:end], argv[end + 1 :]
    options = _make_parser().parse_intermixed_args(argv)
    if options.backends:
        print(_backends_table())
        return 0
    words = [*([options.target] if options.target else []), *options.args, *rest]
    if not words:
        raise UsageError(
            "missing MODULE:FUNCTION, such as: python -m anyrun examples/hello.py:main"
        )
    target, *args = words
    backend_options = _backend_options(options.backend, options.uvloop, options.debug)
    location, name = _split_target(target)
    try:
        module = _load_module(location)
    except UsageError:
        raise
    except Exception as exc:
        _print_traceback(exc, _user_traceback(exc, _is_user_module_frame))
        return 1
    func = _get_async_function(module, location, name)
    _check_arguments(name, func, args)

    try:
        result = anyrun.run(
            func, *args, backend=options.backend, backend_options=backend_options
        )
    except Exception as exc:
        code = _code_of(func)
        user_tb = _user_traceback(exc, lambda frame: frame.f_code is code)
        # anyrun.run checks everything before it calls func, so one of these errors
        # that never reached func is its refusal to start: a backend not installed.
        if user_tb is None and isinstance(exc, (LookupError, ModuleNotFoundError)):
            raise UsageError(str(exc)) from None
        _print_traceback(exc, user_tb or exc.__traceback__)
        return 1
    if result is None:
        return 0
    # A bool is printed: as an exit status, True would mean failure.
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    print(result)
    return 0


def _backend_options(backend: str, uvloop: bool, debug: bool) -> dict[str, Any]:
    if backend != "asyncio":
        if uvloop:
            raise UsageError(
                f"--uvloop is an event loop for asyncio, so it cannot be used with "
                f"--backend {backend}; drop one of the two"
            )
        if debug:
            raise UsageError(
                f"--debug turns on asyncio's debug mode, which {backend} does not "
                "have; drop --debug or use --backend asyncio"
            )
    backend_options: dict[str, Any] = {}
    if uvloop:
        backend_options["use_uvloop"] = True
    if debug:
        backend_options["debug"] = True
    return backend_options


def _split_target(target: str) -> tuple[str, str]:
    # The last colon, so that a Windows path with a drive letter works.
    location, colon, name = target.rpartition(":")
    if not (colon and location and name):
        raise UsageError(
            f"expected MODULE:FUNCTION or FILE.py:FUNCTION, not {target!r}; "
            "for example: python -m anyrun examples/hello.py:main"
        )
    return location, name


def _load_module(location: str) -> ModuleType:
    if location.endswith(".py"):
        return _load_file(location)
    if not all(part.isidentifier() for part in location.split(".")):
        raise UsageError(
            f"{location!r} is neither a module name nor the path of a .py file"
        )
    sys.path.insert(0, os.getcwd())  # as "python -m" does
    try:
        return importlib.import_module(location)
    except ModuleNotFoundError as exc:
        # Only the module asked for, or a package above it: a module that it imports
        # and that is missing is an error in the user's code, reported in full.
        if exc.name is None or not f"{location}.".startswith(f"{exc.name}."):
            raise
        raise UsageError(
            f"no module named {exc.name!r}; check the spelling and the current "
            "directory, or give the path of a .py file"
        ) from None


def _load_file(path: str) -> ModuleType:
    """Load a .py file as Python loads a script, but under a module name taken from
    the file name rather than ``__main__``, so that its ``if __name__ == "__main__":``
    block does not run; registered in :data:`sys.modules` so that pickle and
    dataclasses can find it."""
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path!r}")
    path = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:
        # Replacing it would break whoever uses it already, perhaps anyrun itself.
        raise UsageError(
            f"{path!r} would be the module {name!r}, but a module of that name is "
            "already imported; rename the file"
        )
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None  # None only when there is no loader for the file
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(path))
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def _is_user_module_frame(frame: FrameType) -> bool:
    # Python hides importlib's frames from the traceback of an import statement, too.
    return not (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__") in (__name__, "importlib")
    )


def _get_async_function(
    module: ModuleType, location: str, name: str
) -> Callable[..., Any]:
    where = f"file {location!r}" if location.endswith(".py") else f"module {location!r}"
    try:
        func: Callable[..., Any] = getattr(module, name)
    except AttributeError:
        found = sorted(
            attr
            for attr, value in vars(module).items()
            if inspect.iscoroutinefunction(value)
            and getattr(value, "__module__", None) == module.__name__
        )
        hint = (
            f"its async functions are: {', '.join(found)}"
            if found
            else "it has no async function"
        )
        raise UsageError(f"{where} has no function {name!r}; {hint}") from None
    if not inspect.iscoroutinefunction(func):
        if inspect.isasyncgenfunction(func):
            kind, fix = "an async generator function", "; it must not 'yield'"
        elif callable(func):
            kind, fix = "a regular function", f"; declare it with 'async def {name}'"
        else:
            kind, fix = f"an object of type {type(func).__name__!r}", ""
        raise UsageError(f"{name!r} in {where} is {kind}, not an async function{fix}")
    return func


def _check_arguments(name: str, func: Callable[..., Any], args: list[str]) -> None:
    signature = inspect.signature(func)
    try:
        signature.bind(*args)
    except TypeError as exc:
        count = f"{len(args)} argument{'' if len(args) == 1 else 's'}"
        shown = signature.replace(return_annotation=inspect.Signature.empty)
        raise UsageError(f"cannot call {name}{shown} with {count}: {exc}") from None


def _code_of(func: Callable[..., Any]) -> object:
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__code__", None)


def _user_traceback(
    exc: BaseException, is_user_frame: Callable[[FrameType], bool]
) -> TracebackType | None:
    """Return the traceback of ``exc`` from the first frame of the user's code, or
    ``None`` if it has none: the frames above it, of this runner, anyrun, the event
    loop and importlib, are the same for every error and bury the useful ones."""
    tb = exc.__traceback__
    while tb is not None and not is_user_frame(tb.tb_frame):
        tb = tb.tb_next
    return tb


def _print_traceback(exc: Exception, tb: TracebackType | None) -> None:
    """Print ``exc`` with the traceback ``tb`` as Python prints an uncaught exception,
    through :func:`sys.excepthook`; the hook reads ``exc.__traceback__``, not ``tb``."""
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


def _is_ctrl_c(exc: BaseException) -> bool:
    # trio raises Ctrl+C in a nursery as a group holding the KeyboardInterrupt.
    if isinstance(exc, BaseExceptionGroup):
        # The cast names the item type, which isinstance() leaves unknown to pyright.
        group = cast("BaseExceptionGroup[BaseException]", exc)
        return group.split(KeyboardInterrupt)[1] is None
    return isinstance(exc, KeyboardInterrupt)


def _backends_table() -> str:
    rows = [("backend", "installed", "version", "notes")]
    for name in anyrun.get_all_backends():
        rows.append((name, *_install_status(name, BACKENDS[name])))
    installed, version, notes = _install_status("uvloop", "uvloop")
    notes = "; ".join(filter(None, ["an event loop for asyncio: --uvloop", notes]))
    rows.append(("uvloop", installed, version, notes))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join([*map(str.ljust, row[:3], widths), row[3]]).rstrip() for row in rows
    )


def _install_status(name: str, extra: str | None) -> tuple[str, str, str]:
    """Whether ``name`` is installed, its version and a note, for ``--backends``;
    ``extra`` is the extra of anyrun that installs it, or ``None`` if Python has it."""
    if extra is None:
        return "yes", platform.python_version(), "part of Python"
    try:
        return "yes", metadata.version(name), ""
    except metadata.PackageNotFoundError:
        return "no", "-", f'install it with: pip install "anyrun[{extra}]"'
