"""anyrun: run async code, written once, on asyncio, uvloop and trio."""

from ._core._exceptions import NoEventLoopError as NoEventLoopError
from ._core._run import get_all_backends as get_all_backends
from ._core._run import get_available_backends as get_available_backends
from ._core._run import run as run
from ._core._time import current_time as current_time
from ._core._time import get_cancelled_exc_class as get_cancelled_exc_class
from ._core._time import sleep as sleep
from ._core._time import sleep_forever as sleep_forever
from ._core._time import sleep_until as sleep_until
from ._core._util import fixup_module_metadata

__version__ = "0.1.0"

__all__ = (
    "NoEventLoopError",
    "current_time",
    "get_all_backends",
    "get_available_backends",
    "get_cancelled_exc_class",
    "run",
    "sleep",
    "sleep_forever",
    "sleep_until",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
