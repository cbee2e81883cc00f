"""The examples of the "Working with threads" page (examples/threads/, included in
docs/threads.rst) run, on every backend, and print what the page says."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import anyrun
from anyrun.from_thread import BlockingPortalProvider

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "threads"

BACKENDS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
    pytest.param(("trio", {}), id="trio"),
]

OUTPUT = {
    "blocking_calls": "alpha 8ed3f6ad685b\nbeta f44e64e75f39\ngamma be9d587defa1\n",
    "progress": "progress: [1, 2, 3, 4, 5]\ntotal: 55\n",
    "foreign_thread": "stored 'hello'\n",
    "sync_script": "contents of a.txt\ncontents of b.txt\ncontents of c.txt\n",
    "sync_views": "".join(f"<h1>user{i}</h1>\n" for i in range(1, 5)),
}


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"threads_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested() -> None:
    assert sorted(path.stem for path in EXAMPLES.glob("*.py")) == sorted(OUTPUT)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["blocking_calls", "progress", "foreign_thread"])
def test_async_examples(
    name: str, backend: tuple[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    before = set(threading.enumerate())
    backend_name, options = backend
    anyrun.run(load(name).main, backend=backend_name, backend_options=options)
    assert capsys.readouterr().out == OUTPUT[name]
    assert set(threading.enumerate()) - before == set()  # none of ours is left


@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_views(
    backend: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = load("sync_views")
    provider = BlockingPortalProvider(*backend)
    monkeypatch.setattr(module, "portal_provider", provider)
    module.main()
    assert capsys.readouterr().out == OUTPUT["sync_views"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_script(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = set(threading.enumerate())
    load("sync_script").main(backend)
    assert capsys.readouterr().out == OUTPUT["sync_script"]
    assert set(threading.enumerate()) - before == set()  # none of ours is left
