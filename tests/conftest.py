from __future__ import annotations

from typing import Any

import pytest

BACKEND_PARAMS = [
    pytest.param(("asyncio", {}), id="asyncio"),
    pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
    pytest.param(("trio", {}), id="trio"),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """The backend name and options, once per backend."""
    name, options = request.param
    return name, dict(options)
