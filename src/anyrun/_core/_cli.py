"""The command line, ``python -m anyrun``: import an async function and run it.

Only ``anyrun/__main__.py`` imports this module, so ``import anyrun`` never pays for
argparse and inspect.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import inspect
import os
import platform
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from types import FrameType, ModuleType, TracebackType
from typing import Any, NoReturn

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
The function's return value is the exit status, as with sys.exit(): None is 0, an int
is itself, and anything else is printed and gives 0. An exception prints its
traceback and gives 1; Ctrl+C gives 130; a mistake on the command line gives 2.

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
        _print_traceback(exc, _is_user_module_frame)
        return 1
    func = _get_async_function(module, location, name)
    _check_arguments(name, func, args)

    try:
        result = anyrun.run(
            func, *args, backend=options.backend, backend_options=backend_options
        )
    except Exception as exc:
        code = _code_of(func)
        # anyrun.run checks everything before it calls func, so one of these errors
        # that never reached func is its refusal to start: a backend not installed.
        if not _print_traceback(exc, lambda frame: frame.f_code is code) and isinstance(
            exc, (LookupError, ModuleNotFoundError)
        ):
            raise UsageError(str(exc)) from None
        return 1
    if result is None or isinstance(result, int):
        return result or 0
    print(result)
    return 0
