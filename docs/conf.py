"""Sphinx configuration for the anyrun documentation.

Build with ``sphinx-build -W -n -b html docs docs/_build/html``: every warning is an
error and every cross-reference must resolve. The build needs no network: instead of
intersphinx, references to objects of other projects (the standard library, trio,
uvloop, typing) are listed in ``nitpick_ignore`` below, by exact name or by the
package prefix, so that a reference to one of *our* objects that does not exist still
fails the build.
"""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

HERE = Path(__file__).resolve().parent
# Document the source tree, even without an installed (editable) anyrun.
sys.path.insert(0, str(HERE.parent / "src"))

import anyrun  # noqa: E402
import anyrun.abc  # noqa: E402
import anyrun.from_thread  # noqa: E402
import anyrun.lowlevel  # noqa: E402
import anyrun.pytest_plugin  # noqa: E402
import anyrun.to_thread  # noqa: E402
import anyrun.typer  # noqa: E402

# -- Project ------------------------------------------------------------------------

project = "anyrun"
author = "The anyrun developers"
copyright = "The anyrun developers"
release = anyrun.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------------

extensions = ["sphinx.ext.autodoc"]
nitpicky = True
exclude_patterns = ["_build"]
default_role = "py:obj"
primary_domain = "py"
highlight_language = "python3"

autodoc_member_order = "bysource"
# The public functions annotate with names imported only under TYPE_CHECKING (to keep
# typing out of "import anyrun"), so autodoc shows them as written.
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

# -- Cross-references without the network ------------------------------------------

# Exact names of other projects that our docstrings and pages refer to.
nitpick_ignore = [
    ("py:mod", "contextvars"),
    ("py:mod", "typing"),
    ("py:func", "functools.partial"),
    ("py:class", "asyncio.Runner"),
    ("py:func", "asyncio.run"),
    ("py:func", "trio.run"),
    ("py:exc", "asyncio.CancelledError"),
    ("py:exc", "trio.Cancelled"),
    ("py:func", "uvloop.run"),
    ("py:func", "uvloop.new_event_loop"),
    ("py:func", "sniffio.current_async_library"),
    ("py:class", "concurrent.futures.Future"),
    ("py:exc", "concurrent.futures.CancelledError"),
    ("py:class", "Future"),
    ("py:class", "trio.CapacityLimiter"),
    ("py:func", "trio.to_thread.run_sync"),
    ("py:data", "math.inf"),
    ("py:class", "AbstractAsyncContextManager"),
    ("py:class", "AbstractContextManager"),
    ("py:class", "TracebackType"),
    ("py:class", "typer.Typer"),
    ("py:meth", "typer.Typer.command"),
    ("py:meth", "typer.Typer.callback"),
    ("py:meth", "typer.Typer.add_typer"),
    ("py:func", "typer.run"),
    ("py:func", "functools.wraps"),
    # A function like asyncio.run(), in the signatures of anyrun.typer.
    ("py:class", "AsyncRunner"),
    ("py:class", "trio.CancelScope"),
    ("py:mod", "exceptiongroup"),
    ("py:class", "Self"),
    ("py:class", "TaskStatus"),
    ("py:class", "anyrun.abc.T_contra"),
]
# Built-in exceptions and classes (:exc:`TypeError`, :class:`float`, ...).
nitpick_ignore += [
    (role, name)
    for name, obj in vars(builtins).items()
    if isinstance(obj, type)
    for role in ("py:exc", "py:class", "py:obj")
]
# Names in the type annotations of our signatures: typing, collections.abc and our
# own type variables, which exist only for type checkers.
nitpick_ignore += [
    ("py:class", name)
    for name in (
        "Any",
        "Awaitable",
        "Callable",
        "NoReturn",
        "PosArgsT",
        "T",
        "T_co",
        "Unpack",
    )
]

# -- HTML ---------------------------------------------------------------------------

html_theme = "sphinx_rtd_theme"
html_title = f"anyrun {release}"
html_show_sourcelink = False


# -- Checks -------------------------------------------------------------------------

#: The public modules whose ``__all__`` the API reference must document, every name.
PUBLIC_MODULES = (
    anyrun,
    anyrun.abc,
    anyrun.lowlevel,
    anyrun.typer,
    anyrun.pytest_plugin,
    anyrun.to_thread,
    anyrun.from_thread,
)
API_DOCNAME = "api"


def check_api_reference(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under ``-W``) unless ``api.rst`` documents exactly the names in
    the ``__all__`` of each public module."""
    from sphinx.util import logging

    logger = logging.getLogger("anyrun.docs")
    documented = {
        name: obj.docname
        for name, obj in env.get_domain("py").objects.items()
        if name.startswith("anyrun.")
    }
    expected = {
        f"{module.__name__}.{name}"
        for module in PUBLIC_MODULES
        for name in module.__all__
    }
    for name in sorted(expected):
        if documented.get(name) != API_DOCNAME:
            logger.warning(
                "%s is in __all__ but not documented in %s.rst", name, API_DOCNAME
            )
    modules = {module.__name__ for module in PUBLIC_MODULES}
    for name, docname in sorted(documented.items()):
        if (
            docname == API_DOCNAME
            and name not in expected
            and name not in modules
            # a member (a method, an attribute) of a public class
            and name.rpartition(".")[0] not in expected
        ):
            logger.warning(
                "%s is documented in %s.rst but not in __all__", name, docname
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-check-consistency", check_api_reference)
    return {"parallel_read_safe": True}
