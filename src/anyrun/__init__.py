"""anyrun: run async code, written once, on asyncio, uvloop and trio."""

# Submodules that AnyIO's users reach as attributes: anyrun.to_thread.run_sync().
from . import from_thread as from_thread
from . import to_thread as to_thread
from ._core._cancel import CancelScope as CancelScope
from ._core._cancel import current_effective_deadline as current_effective_deadline
from ._core._cancel import fail_after as fail_after
from ._core._cancel import fail_at as fail_at
from ._core._cancel import move_on_after as move_on_after
from ._core._cancel import move_on_at as move_on_at
from ._core._entrypoint import entrypoint as entrypoint
from ._core._entrypoint import runner as runner
from ._core._exceptions import NoEventLoopError as NoEventLoopError
from ._core._exceptions import RunFinishedError as RunFinishedError
from ._core._exceptions import WouldBlock as WouldBlock
from ._core._limiter import CapacityLimiter as CapacityLimiter
from ._core._limiter import CapacityLimiterStatistics as CapacityLimiterStatistics
from ._core._run import get_all_backends as get_all_backends
from ._core._run import get_available_backends as get_available_backends
from ._core._run import run as run
from ._core._taskinfo import TaskInfo as TaskInfo
from ._core._taskinfo import get_current_task as get_current_task
from ._core._taskinfo import get_running_tasks as get_running_tasks
from ._core._taskinfo import wait_all_tasks_blocked as wait_all_tasks_blocked
from ._core._tasks import TASK_STATUS_IGNORED as TASK_STATUS_IGNORED
from ._core._tasks import create_task_group as create_task_group
from ._core._time import current_time as current_time
from ._core._time import get_cancelled_exc_class as get_cancelled_exc_class
from ._core._time import sleep as sleep
from ._core._time import sleep_forever as sleep_forever
from ._core._time import sleep_until as sleep_until
from ._core._util import fixup_module_metadata

__version__ = "0.1.0"

__all__ = (
    "CancelScope",
    "CapacityLimiter",
    "CapacityLimiterStatistics",
    "NoEventLoopError",
    "RunFinishedError",
    "TASK_STATUS_IGNORED",
    "TaskInfo",
    "WouldBlock",
    "create_task_group",
    "current_effective_deadline",
    "current_time",
    "entrypoint",
    "fail_after",
    "fail_at",
    "get_all_backends",
    "get_available_backends",
    "get_cancelled_exc_class",
    "get_current_task",
    "get_running_tasks",
    "move_on_after",
    "move_on_at",
    "run",
    "runner",
    "sleep",
    "sleep_forever",
    "sleep_until",
    "wait_all_tasks_blocked",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
