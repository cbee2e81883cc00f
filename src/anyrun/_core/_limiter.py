"""The public face of capacity limiters; the backends hold the implementations
(``trio.CapacityLimiter`` on trio)."""

from __future__ import annotations

from ._dispatch import current_backend
from ._exceptions import NoEventLoopError

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from types import TracebackType


def check_total_tokens(value: object) -> None:
    """Validate a number of tokens, the same way on every backend."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"total_tokens must be >= 0, not {value!r}")
    elif value != float("inf"):
        raise TypeError(f"total_tokens must be an int or math.inf, not {value!r}")


class CapacityLimiterStatistics:
    """What :meth:`CapacityLimiter.statistics` returns: a snapshot of the limiter.

    :ivar int borrowed_tokens: the number of tokens borrowed
    :ivar float total_tokens: the total number of tokens
    :ivar tuple borrowers: the tasks, or other objects, holding a token
    :ivar int tasks_waiting: the number of tasks waiting for a token
    """

    __slots__ = ("borrowed_tokens", "borrowers", "tasks_waiting", "total_tokens")

    def __init__(
        self,
        borrowed_tokens: int,
        total_tokens: float,
        borrowers: tuple[object, ...],
        tasks_waiting: int,
    ) -> None:
        self.borrowed_tokens = borrowed_tokens
        self.total_tokens = total_tokens
        self.borrowers = borrowers
        self.tasks_waiting = tasks_waiting

    def _fields(self) -> tuple[object, ...]:
        return (
            self.borrowed_tokens,
            self.total_tokens,
            self.borrowers,
            self.tasks_waiting,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CapacityLimiterStatistics):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"CapacityLimiterStatistics(borrowed_tokens={self.borrowed_tokens!r}, "
            f"total_tokens={self.total_tokens!r}, borrowers={self.borrowers!r}, "
            f"tasks_waiting={self.tasks_waiting!r})"
        )


class CapacityLimiter:
    """A limit on how many tasks (or threads, or anything else) may use a resource
    at once: each holds one of ``total_tokens`` tokens, and waits for a free one.

    :func:`anyrun.to_thread.run_sync` holds one token of its ``limiter`` per worker
    thread, by default one of :func:`anyrun.to_thread.current_default_thread_limiter`.
    As an async context manager, it acquires a token for the current task::

        limiter = anyrun.CapacityLimiter(10)

        async def fetch(url):
            async with limiter:   # at most 10 fetches at once
                return await client.get(url)

    A limiter made outside an event loop is bound to the backend of its first use.
    On trio it wraps a :class:`trio.CapacityLimiter`.

    :param total_tokens: the number of tokens, an int or :data:`math.inf`
    :raises TypeError: if ``total_tokens`` is neither an int nor :data:`math.inf`
    :raises ValueError: if ``total_tokens`` is negative

    .. versionadded:: 0.1
    """

    __slots__ = ("__weakref__",)

    def __new__(cls, total_tokens: float) -> CapacityLimiter:
        check_total_tokens(total_tokens)
        try:
            backend = current_backend()
        except NoEventLoopError:
            return _UnboundCapacityLimiter(total_tokens)
        return backend.create_capacity_limiter(total_tokens)

    def __init__(self, total_tokens: float) -> None:
        pass  # set up by __new__, which returns the backend's limiter

    def __repr__(self) -> str:
        return (
            f"<anyrun.CapacityLimiter {self.borrowed_tokens}/{self.total_tokens} "
            f"borrowed, {self.statistics().tasks_waiting} waiting>"
        )

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.release()

    @property
    def total_tokens(self) -> float:
        """The total number of tokens. Setting it more than the borrowed tokens
        wakes as many waiting tasks as there are new free tokens; setting it less
        takes no token back, but lends none until enough are released."""
        raise NotImplementedError

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        raise NotImplementedError

    @property
    def borrowed_tokens(self) -> int:
        """The number of tokens borrowed now."""
        raise NotImplementedError

    @property
    def available_tokens(self) -> float:
        """The number of tokens free to borrow now."""
        raise NotImplementedError

    def acquire_nowait(self) -> None:
        """Borrow a token for the current task, without waiting.

        :raises WouldBlock: if no token is free
        :raises RuntimeError: if the current task holds a token already
        """
        raise NotImplementedError

    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        """Borrow a token for ``borrower``, any hashable object, without waiting.

        :raises WouldBlock: if no token is free
        :raises RuntimeError: if ``borrower`` holds a token already
        """
        raise NotImplementedError

    async def acquire(self) -> None:
        """Borrow a token for the current task, waiting for one if none is free.

        :raises RuntimeError: if the current task holds a token already
        """
        raise NotImplementedError

    async def acquire_on_behalf_of(self, borrower: object) -> None:
        """Borrow a token for ``borrower``, any hashable object, waiting for one if
        none is free.

        :raises RuntimeError: if ``borrower`` holds a token already
        """
        raise NotImplementedError

    def release(self) -> None:
        """Give back the current task's token.

        :raises RuntimeError: if the current task holds no token
        """
        raise NotImplementedError

    def release_on_behalf_of(self, borrower: object) -> None:
        """Give back the token of ``borrower``.

        :raises RuntimeError: if ``borrower`` holds no token
        """
        raise NotImplementedError

    def statistics(self) -> CapacityLimiterStatistics:
        """Return a snapshot of the limiter's state."""
        raise NotImplementedError

    async def _acquire_for_thread(self, borrower: object) -> None:
        # What to_thread.run_sync() calls; a backend may make it cheaper.
        await self.acquire_on_behalf_of(borrower)


class _UnboundCapacityLimiter(CapacityLimiter):
    """A limiter made outside an event loop: it becomes the backend's limiter of
    its first use in one."""

    __slots__ = ("_bound", "_total_tokens")

    _bound: CapacityLimiter | None
    _total_tokens: float

    def __new__(cls, total_tokens: float) -> _UnboundCapacityLimiter:
        self = object.__new__(cls)
        self._total_tokens = total_tokens
        self._bound = None
        return self

    @property
    def _limiter(self) -> CapacityLimiter:
        if self._bound is None:
            self._bound = current_backend().create_capacity_limiter(self._total_tokens)
        return self._bound

    @property
    def total_tokens(self) -> float:
        if self._bound is None:
            return self._total_tokens
        return self._bound.total_tokens

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        check_total_tokens(value)
        if self._bound is None:
            self._total_tokens = value
        else:
            self._bound.total_tokens = value

    @property
    def borrowed_tokens(self) -> int:
        return 0 if self._bound is None else self._bound.borrowed_tokens

    @property
    def available_tokens(self) -> float:
        return self.total_tokens - self.borrowed_tokens

    def acquire_nowait(self) -> None:
        self._limiter.acquire_nowait()

    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        self._limiter.acquire_on_behalf_of_nowait(borrower)

    async def acquire(self) -> None:
        await self._limiter.acquire()

    async def acquire_on_behalf_of(self, borrower: object) -> None:
        await self._limiter.acquire_on_behalf_of(borrower)

    def release(self) -> None:
        self._limiter.release()

    def release_on_behalf_of(self, borrower: object) -> None:
        self._limiter.release_on_behalf_of(borrower)

    def statistics(self) -> CapacityLimiterStatistics:
        if self._bound is None:
            return CapacityLimiterStatistics(0, self._total_tokens, (), 0)
        return self._bound.statistics()

    async def _acquire_for_thread(self, borrower: object) -> None:
        await self._limiter._acquire_for_thread(borrower)
