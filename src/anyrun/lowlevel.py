"""Low-level primitives for libraries built on anyrun."""

from ._core._checkpoints import cancel_shielded_checkpoint as cancel_shielded_checkpoint
from ._core._checkpoints import checkpoint as checkpoint
from ._core._checkpoints import checkpoint_if_cancelled as checkpoint_if_cancelled
from ._core._token import EventLoopToken as EventLoopToken
from ._core._token import current_token as current_token
from ._core._util import fixup_module_metadata

__all__ = (
    "cancel_shielded_checkpoint",
    "checkpoint",
    "checkpoint_if_cancelled",
    "current_token",
    "EventLoopToken",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
