"""Typer applications whose commands and callbacks may be ``async def``, on any
backend: a drop-in :class:`Typer` and :func:`run`. Needs Typer (``pip install
"anyrun[typer]"``); see the "Async commands in Typer and Click" page of the docs.
"""

from ._core._typer import Typer as Typer
from ._core._typer import run as run
from ._core._util import fixup_module_metadata

__all__ = (
    "Typer",
    "run",
)

fixup_module_metadata(__name__, globals())
del fixup_module_metadata
