"""The back-ported asyncio.Runner, tested on every Python (it is the one anyrun uses
before 3.11), and Ctrl+C for real, in a subprocess, on every backend."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

from anyrun._backends._runner import Runner

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def get_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_runs_and_closes_the_loop() -> None:
    with Runner() as runner:
        loop = runner.run(get_loop())
        assert loop is runner.get_loop()
        assert not loop.is_closed()
    assert loop.is_closed()
    coro = get_loop()
    with pytest.raises(RuntimeError, match="Runner is closed"):
        runner.run(coro)
    coro.close()


def test_one_context_for_the_run() -> None:
    async def read() -> str:
        return var.get()

    token = var.set("before")
    try:
        with Runner() as runner:
            var.set("after the runner started")
            assert runner.run(read()) == "before"
    finally:
        var.reset(token)


def test_explicit_context() -> None:
    async def read() -> str:
        return var.get()

    context = contextvars.copy_context()
    context.run(var.set, "given")
    with Runner() as runner:
        assert runner.run(read(), context=context) == "given"


def test_debug_and_loop_factory() -> None:
    made: list[asyncio.AbstractEventLoop] = []

    def factory() -> asyncio.AbstractEventLoop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    with Runner(debug=True, loop_factory=factory) as runner:
        loop = runner.run(get_loop())
        assert loop.get_debug()
    assert made == [loop]


def test_shuts_down_async_generators() -> None:
    finalized = []

    async def agen() -> AsyncGenerator[int, None]:
        try:
            yield 1
            yield 2
        finally:
            finalized.append(True)

    async def main() -> AsyncGenerator[int, None]:
        gen = agen()
        await gen.__anext__()
        return gen  # left suspended: only the runner's shutdown can finalize it

    with Runner() as runner:
        gen = runner.run(main())
        assert finalized == []
    assert finalized == [True]
    del gen


def test_shuts_down_default_executor() -> None:
    started = threading.Event()

    def work() -> threading.Thread:
        started.set()
        return threading.current_thread()

    async def main() -> threading.Thread:
        return await asyncio.get_running_loop().run_in_executor(None, work)

    with Runner() as runner:
        worker = runner.run(main())
    assert started.is_set()
    assert not worker.is_alive()


def test_cancels_remaining_tasks() -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        asyncio.get_running_loop().create_task(forever())
        await asyncio.sleep(0)

    with Runner() as runner:
        runner.run(main())
    assert cancelled == [True]


def test_rejects_non_coroutine_and_running_loop() -> None:
    with Runner() as runner:
        with pytest.raises(ValueError, match="a coroutine was expected"):
            runner.run(get_loop)  # type: ignore[arg-type]

        async def nested() -> None:
            coro = get_loop()
            with pytest.raises(RuntimeError, match="running event loop"):
                Runner().run(coro)
            coro.close()

        runner.run(nested())


# Ctrl+C, for real: a child process gets SIGINT while its main task sleeps.

CHILD = """
import asyncio, sys
import anyrun

backend, variant = sys.argv[1], sys.argv[2]
options = {"use_uvloop": True} if variant == "uvloop" else {}
if variant == "backport":
    import anyrun._backends._asyncio, anyrun._backends._runner
    anyrun._backends._asyncio.Runner = anyrun._backends._runner.Runner

async def main():
    try:
        print("ready", flush=True)
        await anyrun.sleep_forever()
    except anyrun.get_cancelled_exc_class():
        print("cancelled", flush=True)
        if sys.argv[3] == "stubborn":
            # ignore the first Ctrl+C: only a second one can stop us now
            print("ready again", flush=True)
            await asyncio.Event().wait()
        raise
    finally:
        print("cleanup", flush=True)

try:
    anyrun.run(main, backend=backend, backend_options=options)
except BaseException as exc:
    print("raised", type(exc).__name__, flush=True)
"""

VARIANTS = [
    pytest.param("asyncio", "default", id="asyncio"),
    pytest.param("asyncio", "uvloop", id="asyncio+uvloop"),
    pytest.param("asyncio", "backport", id="asyncio-backport"),
    pytest.param("trio", "default", id="trio"),
]


def interrupt(tmp_path: Path, backend: str, variant: str, mode: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, str(script), backend, variant, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip()]
        assert lines == ["ready"]
        child.send_signal(signal.SIGINT)
        if mode == "stubborn":
            lines += [child.stdout.readline().strip(), child.stdout.readline().strip()]
            assert lines[-1] == "ready again"
            child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert "Traceback" not in err, err
    return lines + out.split()


@pytest.mark.parametrize(("backend", "variant"), VARIANTS)
def test_ctrl_c_cancels_main_then_raises_keyboard_interrupt(
    tmp_path: Path, backend: str, variant: str
) -> None:
    lines = interrupt(tmp_path, backend, variant, "plain")
    expected_catch = [] if backend == "trio" else ["cancelled"]
    assert lines == ["ready", *expected_catch, "cleanup", "raised", "KeyboardInterrupt"]


@pytest.mark.parametrize(("backend", "variant"), VARIANTS[:3])
def test_second_ctrl_c_raises_at_once(
    tmp_path: Path, backend: str, variant: str
) -> None:
    lines = interrupt(tmp_path, backend, variant, "stubborn")
    assert lines[:3] == ["ready", "cancelled", "ready again"]
    assert lines[-2:] == ["raised", "KeyboardInterrupt"]
