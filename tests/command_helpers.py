"""Shared by the tests of anyrun.runner, anyrun.entrypoint and anyrun.typer."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

#: (backend, variant) for a child process: "uvloop" adds use_uvloop=True.
VARIANTS = [
    pytest.param("asyncio", "default", id="asyncio"),
    pytest.param("asyncio", "uvloop", id="asyncio+uvloop"),
    pytest.param("trio", "default", id="trio"),
]


@contextmanager
def no_never_awaited_warning() -> Iterator[None]:
    """Fail if a coroutine created inside is left unawaited and unclosed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    messages = [str(warning.message) for warning in caught]
    assert not [message for message in messages if "never awaited" in message]


def interrupt(script: str, *args: str) -> tuple[int, str, str]:
    """Run ``script``, wait for its "ready" line, press Ctrl+C; return its exit
    status, the rest of its output and its standard error."""
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    return child.returncode, out, err
