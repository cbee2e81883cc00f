from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

import anyrun
import anyrun.from_thread
import anyrun.lowlevel
import anyrun.to_thread

PUBLIC_MODULES = [anyrun, anyrun.lowlevel, anyrun.to_thread, anyrun.from_thread]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_lists_every_public_name(module: types.ModuleType) -> None:
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert isinstance(module.__all__, tuple)
    assert sorted(module.__all__) == sorted(defined)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_public_objects_report_public_module(module: types.ModuleType) -> None:
    for name in module.__all__:
        assert getattr(module, name).__module__ == module.__name__, name


def test_import_is_light() -> None:
    code = (
        "import sys, anyrun, anyrun.lowlevel, anyrun.to_thread, anyrun.from_thread; "
        "print(' '.join(m for m in ('asyncio', 'trio', 'uvloop', 'sniffio', "
        "'threading', 'concurrent.futures') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert result.stdout.strip() == ""


def test_version() -> None:
    from importlib.metadata import version

    assert anyrun.__version__ == version("anyrun")
