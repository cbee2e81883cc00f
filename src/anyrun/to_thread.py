"""Run blocking code in worker threads, from async code."""

from ._core._threads import (
    current_default_thread_limiter as current_default_thread_limiter,
)
from ._core._threads import run_sync as run_sync
from ._core._util import fixup_module_metadata

__all__ = (
    "current_default_thread_limiter",
    "run_sync",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
