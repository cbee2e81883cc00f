"""anyrun against raw asyncio, uvloop and trio, and against AnyIO, side by side.

    python benchmarks/bench.py [--rounds N] [--quick] [--cpu N] [--only CASE] [--json P]

See README.rst for how to read the table. A case is one entry of CASES below.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import platform
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from statistics import median
from typing import Any, Callable

import _harness as h

try:
    import anyio
    import anyio.from_thread
    import anyio.lowlevel
    import anyio.to_thread
    import sniffio
    import trio
    import trio.from_thread
    import trio.lowlevel
    import trio.to_thread
    import uvloop
except ModuleNotFoundError as exc:
    sys.exit(f"{exc}; install the benchmark extra: pip install -e '.[bench]'")

try:
    import anyrun
except ModuleNotFoundError:  # not installed: use the checkout
    SRC = str(Path(__file__).resolve().parents[1] / "src")
    sys.path.insert(0, SRC)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [SRC, os.environ.get("PYTHONPATH")])
    )
    import anyrun
import anyrun.lowlevel

BACKENDS = ("asyncio", "uvloop", "trio")
IMPLS = ("raw", "anyrun", "anyio")  # "raw" is the baseline of every ratio


async def noop() -> None:
    pass


def uvloop_run(main: Callable[[], Any]) -> Any:
    """The lightest raw way to run on uvloop: what anyrun and AnyIO do too."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    return uvloop.run(main())


def host_run(backend: str, main: Callable[[], Any]) -> Any:
    """Run ``main`` with the raw backend, as the one loop that in-loop cases share.

    sniffio's context variable is set as ``anyio.run()`` sets it (``trio.run()`` sets
    sniffio's thread-local itself), so AnyIO finds its backend as fast as under its
    own runner; anyrun caches its backend in a context variable on first use anyway.
    """
    if backend == "trio":
        return trio.run(main)
    token = sniffio.current_async_library_cvar.set("asyncio")
    try:
        return uvloop_run(main) if backend == "uvloop" else asyncio.run(main())
    finally:
        sniffio.current_async_library_cvar.reset(token)


# --- The cases: what each implementation runs, per backend -------------------------
# Each gives (stmt, op): stmt is pasted into the timing loop and calls op.

Ops = h.Ops
UV = {"use_uvloop": True}
RUNS = {  # one lambda on every side, so each pays the same extra call
    "asyncio": {
        "raw": lambda: asyncio.run(noop()),
        "anyrun": lambda: anyrun.run(noop),
        "anyio": lambda: anyio.run(noop),
    },
    "uvloop": {
        "raw": lambda: uvloop_run(noop),
        "anyrun": lambda: anyrun.run(noop, backend_options=UV),
        "anyio": lambda: anyio.run(noop, backend_options=UV),
    },
    "trio": {
        "raw": lambda: trio.run(noop),
        "anyrun": lambda: anyrun.run(noop, backend="trio"),
        "anyio": lambda: anyio.run(noop, backend="trio"),
    },
}


def run_ops(backend: str) -> Ops:
    return {impl: ("op()", run) for impl, run in RUNS[backend].items()}


def sleep0_ops(backend: str) -> Ops:
    raw = trio.sleep if backend == "trio" else asyncio.sleep
    return {
        "raw": ("await op(0)", raw),
        "anyrun": ("await op(0)", anyrun.sleep),
        "anyio": ("await op(0)", anyio.sleep),
    }


def checkpoint_ops(backend: str) -> Ops:
    # asyncio has no checkpoint(): sleep(0) is what its code awaits instead.
    if backend == "trio":
        raw = ("await op()", trio.lowlevel.checkpoint)
    else:
        raw = ("await op(0)", asyncio.sleep)
    return {
        "raw": raw,
        "anyrun": ("await op()", anyrun.lowlevel.checkpoint),
        "anyio": ("await op()", anyio.lowlevel.checkpoint),
    }


# Threads. to_thread.run_sync() is timed in the loop; from_thread calls are timed in
# the main thread, calling into a loop that runs in a thread of its own (LoopThread).


def sync_noop() -> None:
    pass


# Cancel scopes and task groups. Each op is an async function holding the block, the
# same shape on every side; Python 3.9 and 3.10 have no asyncio.TaskGroup or
# asyncio.timeout(), so those rows are left out there.
SPAWNS = 100  # tasks per task group in the spawn case


async def raw_asyncio_spawn() -> None:
    async with asyncio.TaskGroup() as tg:
        for _ in range(SPAWNS):
            tg.create_task(noop())


async def raw_trio_spawn() -> None:
    async with trio.open_nursery() as nursery:
        for _ in range(SPAWNS):
            nursery.start_soon(noop)


async def anyrun_spawn() -> None:
    async with anyrun.create_task_group() as tg:
        for _ in range(SPAWNS):
            tg.start_soon(noop)


async def anyio_spawn() -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(SPAWNS):
            tg.start_soon(noop)


def spawn_ops(backend: str) -> Ops | None:
    if backend == "trio":
        raw = raw_trio_spawn
    elif sys.version_info >= (3, 11):
        raw = raw_asyncio_spawn
    else:
        return None
    return {
        "raw": ("await op()", raw),
        "anyrun": ("await op()", anyrun_spawn),
        "anyio": ("await op()", anyio_spawn),
    }


async def raw_asyncio_empty_group() -> None:
    async with asyncio.TaskGroup():
        pass


async def raw_trio_empty_group() -> None:
    async with trio.open_nursery():
        pass


async def anyrun_empty_group() -> None:
    async with anyrun.create_task_group():
        pass


async def anyio_empty_group() -> None:
    async with anyio.create_task_group():
        pass


def empty_group_ops(backend: str) -> Ops | None:
    if backend == "trio":
        raw = raw_trio_empty_group
    elif sys.version_info >= (3, 11):
        raw = raw_asyncio_empty_group
    else:
        return None
    return {
        "raw": ("await op()", raw),
        "anyrun": ("await op()", anyrun_empty_group),
        "anyio": ("await op()", anyio_empty_group),
    }


async def raw_asyncio_timeout() -> None:
    async with asyncio.timeout(1000):
        await asyncio.sleep(0)


async def raw_trio_timeout() -> None:
    with trio.move_on_after(1000):
        await trio.sleep(0)


async def anyrun_timeout() -> None:
    with anyrun.move_on_after(1000):
        await anyrun.sleep(0)


async def anyio_timeout() -> None:
    with anyio.move_on_after(1000):
        await anyio.sleep(0)


def timeout_ops(backend: str) -> Ops | None:
    if backend == "trio":
        raw = raw_trio_timeout
    elif sys.version_info >= (3, 11):
        raw = raw_asyncio_timeout
    else:
        return None
    return {
        "raw": ("await op()", raw),
        "anyrun": ("await op()", anyrun_timeout),
        "anyio": ("await op()", anyio_timeout),
    }


def to_thread_ops(backend: str) -> Ops:
    raw = trio.to_thread.run_sync if backend == "trio" else asyncio.to_thread
    return {
        "raw": ("await op()", partial(raw, sync_noop)),
        "anyrun": ("await op()", partial(anyrun.to_thread.run_sync, sync_noop)),
        "anyio": ("await op()", partial(anyio.to_thread.run_sync, sync_noop)),
    }


def raw_run_sync(loop: asyncio.AbstractEventLoop, func: Callable[[], Any]) -> Any:
    """What call_soon_threadsafe() needs to hand a result back to a thread."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def call() -> None:
        try:
            future.set_result(func())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(call)
    return future.result()


def from_thread_ops(backend: str, loop: LoopThread) -> Ops:
    native, token, anyio_token = loop.native, loop.token, loop.anyio_token
    if backend == "trio":
        raw = lambda: trio.from_thread.run(noop, trio_token=native)  # noqa: E731
    else:
        raw = lambda: asyncio.run_coroutine_threadsafe(noop(), native).result()  # noqa: E731
    return {  # one lambda on every side, so each pays the same extra call
        "raw": ("op()", raw),
        "anyrun": ("op()", lambda: anyrun.from_thread.run(noop, token=token)),
        "anyio": ("op()", lambda: anyio.from_thread.run(noop, token=anyio_token)),
    }


def from_thread_sync_ops(backend: str, loop: LoopThread) -> Ops:
    native, token, anyio_token = loop.native, loop.token, loop.anyio_token
    if backend == "trio":
        raw = lambda: trio.from_thread.run_sync(sync_noop, trio_token=native)  # noqa: E731
    else:
        raw = lambda: raw_run_sync(native, sync_noop)  # noqa: E731
    return {
        "raw": ("op()", raw),
        "anyrun": ("op()", lambda: anyrun.from_thread.run_sync(sync_noop, token=token)),
        "anyio": (
            "op()",
            lambda: anyio.from_thread.run_sync(sync_noop, token=anyio_token),
        ),
    }


@dataclass(frozen=True)
class Options:
    rounds: int
    batch_time: float  # seconds per timed batch
    import_rounds: int


@dataclass(frozen=True)
class Case:
    """An operation timed for every backend and implementation."""

    key: str  # for --only and the JSON
    title: str
    ops: Callable[[str], Ops | None]
    target: float  # the most anyrun may take, as a ratio to raw
    in_loop: bool = True  # timed inside one loop per backend, else around whole runs
    batch_scale: float = 1.0  # longer batches for slow, noisy operations

    def measure(self, opts: Options) -> dict[str, Any]:
        results = {}
        batch_time = opts.batch_time * self.batch_scale
        for backend in BACKENDS:
            progress(f"{self.title} on {backend}")
            ops = self.ops(backend)
            if ops is None:  # nothing to compare with on this Python
                continue
            if self.in_loop:
                sampling = partial(h.sample_in_loop, ops, opts.rounds, batch_time)
                samples = host_run(backend, sampling)
            else:
                samples = h.sample(ops, opts.rounds, batch_time)
            results[backend] = h.summarize(samples, baseline="raw")
        return results

    def rows(self, result: dict[str, Any]) -> list[str]:
        lines = []
        for backend, stats in result.items():
            verdict = judge(
                stats["anyrun"]["ratio"], stats["anyrun"]["ci"], self.target
            )
            cells = [fmt_cell(stats[impl], impl == "raw") for impl in IMPLS]
            target = f"<={self.target:.2f}x {verdict}"
            title = self.title if backend == next(iter(result)) else ""
            lines.append(ROW.format(title, backend, *cells, target))
        return lines


class LoopThread:
    """A raw event loop of ``backend`` running in a thread of its own, for as long as
    the ``with`` block: its native handle (the asyncio loop, or trio's token), and
    anyrun's and AnyIO's tokens for it."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def __enter__(self) -> LoopThread:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        async def serve() -> None:
            if self.backend == "trio":
                self.native: Any = trio.lowlevel.current_trio_token()
                self._stop: Any = trio.Event()
            else:
                self.native = asyncio.get_running_loop()
                self._stop = asyncio.Event()
            self.token = anyrun.lowlevel.current_token()
            self.anyio_token = anyio.lowlevel.current_token()
            ready.set_result(None)
            await self._stop.wait()

        self._thread = threading.Thread(target=host_run, args=(self.backend, serve))
        self._thread.start()
        ready.result()
        return self

    def __exit__(self, *exc_info: object) -> None:
        anyrun.from_thread.run_sync(self._stop.set, token=self.token)
        self._thread.join()


@dataclass(frozen=True)
class FromThreadCase(Case):
    """Calls from this thread into a loop in another one: ``ops(backend, loop)``."""

    def measure(self, opts: Options) -> dict[str, Any]:
        results = {}
        for backend in BACKENDS:
            progress(f"{self.title} on {backend}")
            with LoopThread(backend) as loop:
                ops = self.ops(backend, loop)  # type: ignore[call-arg]
                samples = h.sample(ops, opts.rounds, opts.batch_time * self.batch_scale)
            results[backend] = h.summarize(samples, baseline="raw")
        return results


# typing is listed because importing it costs milliseconds.
WATCHED = ("asyncio", "trio", "uvloop", "sniffio", "typing")
FORBIDDEN = ("asyncio", "trio", "uvloop")
PROBE = (
    "import sys; before = set(sys.modules); import anyrun; "
    "print(' '.join(sorted(set(sys.modules) - before))); "
    f"print(' '.join(m for m in {WATCHED!r} if m in sys.modules))"
)


@dataclass(frozen=True)
class ImportCase:
    """Import time in a fresh interpreter, over a bare one; and what anyrun imports."""

    key: str = "import"
    modules: tuple[str, ...] = ("anyrun", "anyio", "asyncio", "trio")
    target_ms: float = 5.0  # the most "import anyrun" may add

    def measure(self, opts: Options) -> dict[str, Any]:
        progress("import times")
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # children use and write .pyc files
        argv = [sys.executable, "-c"]
        commands = {"bare": [*argv, "pass"]}
        commands.update({m: [*argv, f"import {m}"] for m in self.modules})
        samples = h.time_commands(commands, opts.import_rounds, env)
        probe = subprocess.run(
            [*argv, PROBE], env=env, check=True, capture_output=True, text=True
        ).stdout.splitlines()
        over = {
            m: [t - b for t, b in zip(samples[m], samples["bare"])] for m in samples
        }
        return {
            "wall": {m: median(times) for m, times in samples.items()},
            "over_bare": {m: median(diffs) for m, diffs in over.items()},
            "ci": {m: h.median_ci(diffs) for m, diffs in over.items()},
            "samples": samples,
            "added_by_anyrun": probe[0].split(),
            "loaded_after_anyrun": probe[1].split() if len(probe) > 1 else [],
        }

    def lines(self, result: dict[str, Any]) -> list[str]:
        over = result["over_bare"]
        n = len(result["samples"]["bare"])
        lines = [
            f"import (fresh `python -c 'import X'` minus `python -c pass`, median of "
            f"{n} paired runs)",
            f"  bare interpreter   {h.fmt_time(result['wall']['bare']):>9}",
        ]
        for module in self.modules:
            extra = over[module]
            plus_minus = h.fmt_time(result["ci"][module])
            line = (
                f"  import {module:<11} {'+' + h.fmt_time(extra):>9} ±{plus_minus:<8}"
            )
            if module == "anyrun":
                verdict = judge(extra, result["ci"][module], self.target_ms / 1e3)
                line += f"   target <= +{self.target_ms:g} ms {verdict}"
            lines.append(line.rstrip())
        loaded = result["loaded_after_anyrun"]
        bad = [m for m in FORBIDDEN if m in loaded]
        marks = ", ".join(f"{m} {'yes' if m in loaded else 'no'}" for m in WATCHED)
        verdict = f"FAIL: imports {', '.join(bad)}" if bad else "ok"
        added = result["added_by_anyrun"]
        lines += [
            f"  in sys.modules after `import anyrun`: {marks}  -> {verdict}",
            f"  `import anyrun` adds {len(added)} modules: anyrun.*, "
            + " ".join(m for m in added if m.partition(".")[0] != "anyrun"),
        ]
        return lines


CASES: list[Case | ImportCase] = [
    Case("run", "run(noop)", run_ops, target=1.10, in_loop=False, batch_scale=4),
    Case("sleep0", "sleep(0)", sleep0_ops, target=1.05),
    Case("checkpoint", "checkpoint()", checkpoint_ops, target=1.05),
    Case("spawn", f"spawn x{SPAWNS}", spawn_ops, target=1.20),
    Case("timeout", "move_on_after", timeout_ops, target=1.10),
    Case("taskgroup", "empty tg", empty_group_ops, target=1.20),
    Case("to_thread", "to_thread", to_thread_ops, target=1.05, batch_scale=4),
    FromThreadCase(
        "from_thread",
        "from_thread",
        from_thread_ops,
        1.05,
        in_loop=False,
        batch_scale=4,
    ),
    FromThreadCase(
        "from_thread_sync",
        "from_th.sync",
        from_thread_sync_ops,
        1.05,
        in_loop=False,
        batch_scale=4,
    ),
    ImportCase(),
]


# --- Output -------------------------------------------------------------------------

ROW = "{:<13} {:<8} {:>9}  {:<22} {:<22} {}"


def fmt_cell(stats: dict[str, Any], raw: bool) -> str:
    if raw:
        return h.fmt_time(stats["median"])
    return f"{h.fmt_time(stats['median']):>9} {stats['ratio']:.2f}x ±{stats['ci']:.2f}"


def judge(value: float, ci: float, limit: float) -> str:
    """ok or MISS; with a "?" when the limit lies within the confidence interval."""
    verdict = "ok" if value <= limit else "MISS"
    return verdict + "?" if abs(value - limit) <= ci else verdict


def progress(what: str) -> None:
    print(f"  measuring {what}...", file=sys.stderr, flush=True)


def pin(cpu: int | None) -> int | None:
    """Pin this process, and the interpreters it starts, to one CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    if cpu is None:
        cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # e.g. anyrun from a checkout, not installed
        return getattr(sys.modules.get(name), "__version__", "?")


def metadata(cpu: int | None, opts: Options) -> dict[str, Any]:
    packages = ("anyrun", "anyio", "trio", "uvloop", "sniffio")
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "versions": {name: package_version(name) for name in packages},
        "anyrun_path": str(Path(anyrun.__file__).parent),
        "rounds": opts.rounds,
        "batch_time": opts.batch_time,
        "import_rounds": opts.import_rounds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, help="round-robin rounds per case (default 100)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--cpu", type=int, help="CPU to pin to (default the last)")
    parser.add_argument(
        "--only",
        action="append",
        choices=[case.key for case in CASES],
        help="run only this case (repeatable)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="save results")
    args = parser.parse_args(argv)
    rounds = args.rounds or (20 if args.quick else 100)
    opts = Options(
        rounds=rounds,
        batch_time=0.002 if args.quick else 0.005,
        import_rounds=max(5, rounds // 2),
    )
    cpu = pin(args.cpu)
    meta = metadata(cpu, opts)
    cases = [case for case in CASES if not args.only or case.key in args.only]
    results = {case.key: case.measure(opts) for case in cases}

    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    print(f"Python {meta['python']} ({meta['implementation']}), {meta['platform']}")
    print(f"{versions} (from {meta['anyrun_path']})")
    pinned = "not pinned" if cpu is None else f"pinned to CPU {cpu}"
    print(f"{pinned}; {rounds} rounds of {opts.batch_time * 1e3:g} ms batches")
    print("time: median per operation; ratio: to raw, median of the per-round ratios,")
    print("± its 95% confidence; target: for anyrun (? = within the confidence)\n")
    timed = [case for case in cases if isinstance(case, Case)]
    if timed:
        print(ROW.format("case", "backend", "raw", "anyrun", "AnyIO", "target"))
        for case in timed:
            print("\n".join(case.rows(results[case.key])))
    for case in cases:
        if isinstance(case, ImportCase):
            print("\n" + "\n".join(case.lines(results[case.key])))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main()
