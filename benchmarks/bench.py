"""anyrun against raw asyncio, uvloop and trio, and against AnyIO, side by side.

    python benchmarks/bench.py [--rounds N] [--quick] [--cpu N] [--only CASE] [--json P]

See README.rst for how to read the table. A case is one entry of CASES below.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from statistics import median
from typing import Any, Callable

import _harness as h

try:
    import anyio
    import sniffio
    import trio
    import trio.lowlevel
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
    ops: Callable[[str], Ops]
    target: float  # the most anyrun may take, as a ratio to raw
    in_loop: bool = True  # timed inside one loop per backend, else around whole runs
    batch_scale: float = 1.0  # longer batches for slow, noisy operations

    def measure(self, opts: Options) -> dict[str, Any]:
        results = {}
        batch_time = opts.batch_time * self.batch_scale
        for backend in BACKENDS:
            progress(f"{self.title} on {backend}")
            ops = self.ops(backend)
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
            title = self.title if backend == BACKENDS[0] else ""
            lines.append(ROW.format(title, backend, *cells, target))
        return lines


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
