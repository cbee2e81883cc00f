"""Shared by the tests of anyrun.runner, anyrun.entrypoint and anyrun.typer."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_never_awaited_warning() -> Iterator[None]:
    """Fail if a coroutine created inside is left unawaited and unclosed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    messages = [str(warning.message) for warning in caught]
    assert not [message for message in messages if "never awaited" in message]
