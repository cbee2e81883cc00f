"""Finding the backend of the running event loop, cheaply.

The answer lives in a context variable: :func:`anyrun.run` sets it for its whole run
and :func:`detect_backend` caches it in the current task's context under a plain
``asyncio.run()`` or ``trio.run()``. Reading it is one C call, where sniffio's chain
(its thread-local, its context variable, then asking asyncio) costs several times a
uvloop checkpoint. Tasks inherit it, as they inherit every context variable; threads
started by anyrun clear it.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

from ._exceptions import NoEventLoopError

TYPE_CHECKING = False  # typing costs milliseconds to import; see benchmarks/
if TYPE_CHECKING:
    from .._backends._base import Backend

#: Every backend anyrun knows, with the extra that installs it.
BACKENDS = {"asyncio": None, "trio": "trio"}

# Our own cache rather than sys.modules: a backend module there may be half-imported.
_loaded: dict[str, Backend] = {}

current_backend_var: ContextVar[Backend | None] = ContextVar(
    "anyrun.current_backend", default=None
)

#: ``current_backend_var.get``, bound once. Hot paths elsewhere call this: Python 3.11+
#: compile ``current_backend_var.get()`` on an imported name as an attribute load
#: that builds a new bound method on every call (a few percent of a checkpoint).
cached_backend = current_backend_var.get


def load_backend(name: str) -> Backend:
    """Return the backend called ``name``, importing it on first use."""
    try:
        return _loaded[name]
    except KeyError:
        pass
    if name not in BACKENDS:
        raise LookupError(
            f"No such backend: {name!r}; the backends are "
            + ", ".join(repr(known) for known in BACKENDS)
        ) from None
    from importlib import import_module

    try:
        module = import_module(f"anyrun._backends._{name}")
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise LookupError(
            f"The {name!r} backend is not installed; "
            f'install it with: pip install "anyrun[{BACKENDS[name]}]"'
        ) from None
    backend: Backend = module.backend
    _loaded[name] = backend
    return backend


def running_backend_name() -> str | None:
    """Name the async library running in this thread, or ``None`` outside one."""
    # A plain import: "from sniffio import ..." runs importlib's Python fromlist code
    # on every call, since sniffio is a package.
    import sniffio

    name = sniffio.thread_local.name or sniffio.current_async_library_cvar.get()
    if name is None:
        asyncio = sys.modules.get("asyncio")
        if asyncio is not None and asyncio.events._get_running_loop() is not None:
            name = "asyncio"
    return name


def current_backend() -> Backend:
    """Return the backend running the current task.

    The hottest callers inline it as ``cached_backend() or detect_backend()``:
    a function call is a measurable share of a checkpoint on uvloop.
    """
    return current_backend_var.get() or detect_backend()


def detect_backend() -> Backend:
    """The slow path of :func:`current_backend`: ask sniffio, and remember the answer
    in the current context."""
    name = running_backend_name()
    if name is None:
        raise NoEventLoopError(
            "This needs a running event loop, and there is none in this thread; "
            "start one with anyrun.run(), asyncio.run() or trio.run()"
        )
    backend = load_backend(name)
    current_backend_var.set(backend)
    return backend
