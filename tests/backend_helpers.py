"""Backend selections for tests of one event loop's own behaviour."""

from __future__ import annotations

import pytest

#: Run a test on asyncio and uvloop only: for asyncio's own cancellation
#: (``Task.cancel()``, ``asyncio.TaskGroup``), which has no counterpart on trio.
on_asyncio_only = pytest.mark.parametrize(
    "anyrun_backend",
    ["asyncio", ("asyncio", {"use_uvloop": True})],
    ids=["asyncio", "asyncio+uvloop"],
)
