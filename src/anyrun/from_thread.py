"""Call into an event loop from other threads."""

from ._core._from_thread import check_cancelled as check_cancelled
from ._core._from_thread import run as run
from ._core._from_thread import run_sync as run_sync
from ._core._portal import BlockingPortal as BlockingPortal
from ._core._portal import BlockingPortalProvider as BlockingPortalProvider
from ._core._portal import start_blocking_portal as start_blocking_portal
from ._core._util import fixup_module_metadata

__all__ = (
    "BlockingPortal",
    "BlockingPortalProvider",
    "check_cancelled",
    "run",
    "run_sync",
    "start_blocking_portal",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
