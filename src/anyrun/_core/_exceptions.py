from __future__ import annotations


class NoEventLoopError(RuntimeError):
    """Raised by a function that needs a running event loop when none of the supported
    backends is running one in the current thread."""
