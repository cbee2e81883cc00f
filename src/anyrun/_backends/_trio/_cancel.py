"""Cancel scopes on trio: thin wrappers of trio's own."""

from __future__ import annotations

import sys
from typing import Any

import trio

from ..._core._cancel import CancelScope

if sys.version_info >= (3, 11):
    from typing import Self
else:
    from typing_extensions import Self

# trio.CancelScope.cancel() takes a reason since trio 0.31.
_CANCEL_TAKES_REASON = "reason" in trio.CancelScope.cancel.__code__.co_varnames


class TrioCancelScope(CancelScope):
    __slots__ = ("_reason", "_scope", "_state")

    _scope: trio.CancelScope
    _state: str

    @classmethod
    def create(cls, deadline: float, shield: bool) -> TrioCancelScope:
        self = object.__new__(cls)
        self._scope = trio.CancelScope(deadline=deadline, shield=shield)
        self._state = "unbound"
        return self

    @classmethod
    def wrap(cls, scope: trio.CancelScope) -> TrioCancelScope:
        self = object.__new__(cls)
        self._scope = scope
        self._state = "active"
        return self

    def __enter__(self) -> Self:
        self._scope.__enter__()
        self._state = "active"
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            return self._scope.__exit__(exc_type, exc, tb)
        finally:
            self._state = "exited"

    def adopt(self, scope: trio.CancelScope) -> None:
        """Wrap ``scope`` from now on, in place of this unbound one, whose settings it
        takes: for a task group's scope used before the nursery exists."""
        unbound = self._scope
        scope.shield = unbound.shield
        scope.deadline = unbound.deadline
        self._scope = scope
        self._state = "active"
        if unbound.cancel_called:
            self.cancel(getattr(self, "_reason", None))

    def cancel(self, reason: str | None = None) -> None:
        if self._state == "unbound":
            self._reason = reason  # for adopt()
        if _CANCEL_TAKES_REASON:
            self._scope.cancel(reason)
        else:  # pragma: no cover
            self._scope.cancel()

    @property
    def cancel_called(self) -> bool:
        return self._scope.cancel_called

    @property
    def cancelled_caught(self) -> bool:
        return self._scope.cancelled_caught

    def _state_name(self) -> str:
        return self._state

    def _get_deadline(self) -> float:
        return self._scope.deadline

    def _set_deadline(self, value: float) -> None:
        self._scope.deadline = value

    def _get_shield(self) -> bool:
        return self._scope.shield

    def _set_shield(self, value: bool) -> None:
        self._scope.shield = value

    def _timed_out(self) -> bool:
        return trio.current_time() >= self._scope.deadline
