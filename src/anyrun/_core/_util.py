from __future__ import annotations

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from typing import Any


def fixup_module_metadata(module_name: str, namespace: dict[str, Any]) -> None:
    """Give the public objects of ``module_name`` their public ``__module__``, so that
    tracebacks, Sphinx and pickle show ``anyrun.run`` rather than a private path."""
    for name in namespace["__all__"]:
        obj = namespace[name]
        if getattr(obj, "__module__", "").startswith("anyrun._"):
            obj.__module__ = module_name
