"""The worker threads of :func:`anyrun.to_thread.run_sync`: one pool per run.

A worker runs one job at a time. Between jobs it waits, parked in the pool's idle
dict, for :data:`IDLE_TIMEOUT` seconds; then it leaves the dict and exits, so an
idle pool shrinks on a timer rather than only when the next call comes. The token
closes the pool when the run ends: idle workers are told to exit and are joined.

The hand-over needs no lock of its own (as in trio's thread cache): a worker and
the event loop race for a parked worker with ``del idle[worker]`` and
``idle.popitem()``, which are atomic, and exactly one of them wins.
"""

# The thread machinery shares the internals of EventLoopToken, which are private to
# users, across its modules.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from _thread import _local, allocate_lock
from contextvars import copy_context

from ._coroutines import CoroutineType
from ._token import leave_loop

TYPE_CHECKING = False  # keeps typing out of "import anyrun"
if TYPE_CHECKING:
    from collections.abc import Callable
    from threading import Thread
    from typing import Any

    from ._limiter import CapacityLimiter
    from ._token import EventLoopToken, LoopCall

#: Seconds an idle worker thread waits for another job before it exits. Read at
#: each wait, so that tests can shorten it.
IDLE_TIMEOUT = 10.0

#: The tokens of the default thread limiter: at most this many worker threads of
#: to_thread.run_sync() run at once in an event loop (trio's and AnyIO's number too).
DEFAULT_THREAD_LIMIT = 40


class _ThreadState(_local):
    #: The job this worker thread is running, None in any other thread.
    job: WorkerJob | None = None


thread_state = _ThreadState()


class WorkerJob:
    """One call of :func:`anyrun.to_thread.run_sync`: the function, its outcome and
    the host task's side of the wait."""

    __slots__ = (
        "abandon_on_cancel",
        "abandoned",
        "args",
        "calls",
        "context",
        "error",
        "finished",
        "func",
        "limiter",
        "raise_cancel",
        "token",
        "value",
        "waiter",
        "wake",
    )

    def __init__(
        self,
        token: EventLoopToken,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        abandon_on_cancel: bool,
        limiter: CapacityLimiter,
    ) -> None:
        self.token = token
        self.func = func
        self.args = args
        self.context = context = copy_context()
        context.run(leave_loop)
        self.abandon_on_cancel = abandon_on_cancel
        self.limiter = limiter
        self.value: Any = None
        self.error: BaseException | None = None
        #: Set in the loop once the worker has reported back.
        self.finished = False
        #: Set in the loop when the host task stopped waiting for good.
        self.abandoned = False
        #: Set in the loop when the host task was cancelled: raises the cancellation.
        self.raise_cancel: Callable[[], object] | None = None
        #: The from_thread.run() calls of this worker that share its cancellation.
        self.calls: set[LoopCall] = set()
        #: The backend's handle on the host task, and how finish() wakes it.
        self.waiter: Any = None
        self.wake: Callable[[WorkerJob], object] | None = None

    # -- In the event loop -------------------------------------------------------------

    def start(self) -> None:
        self.token._workers().submit(self)

    def finish(self) -> None:
        """Scheduled in the loop by the worker when the function has returned."""
        self.finished = True
        try:
            self.limiter.release_on_behalf_of(self)
        finally:
            if not self.abandoned and self.wake is not None:
                self.wake(self)

    def cancel(self, raise_cancel: Callable[[], object]) -> None:
        """Called by the backend when the host task is cancelled while it waits."""
        if self.raise_cancel is None:
            self.raise_cancel = raise_cancel
            for call in list(self.calls):
                assert call.cancel is not None
                call.cancel()
        if self.abandon_on_cancel:
            self.abandoned = True

    def unwrap(self) -> Any:
        error = self.error
        if error is None:
            return self.value
        try:
            raise error
        finally:
            del error, self  # no reference cycle through this frame

    # -- In the worker thread ----------------------------------------------------------

    def run(self) -> None:
        thread_state.job = self
        try:
            value = self.context.run(self.func, *self.args)
            if isinstance(value, CoroutineType):
                value.close()
                raise TypeError(
                    "to_thread.run_sync() expected a regular function, but "
                    f"{getattr(self.func, '__qualname__', self.func)!r} is an async "
                    "function; await it in the event loop instead"
                )
            self.value = value
        except BaseException as exc:  # delivered to the host task, whatever it is
            self.error = exc
        finally:
            thread_state.job = None

    def deliver(self) -> None:
        try:  # noqa: SIM105 (faster than contextlib.suppress, and no import)
            self.token._call_soon(self.finish)
        except RuntimeError:
            pass  # the loop is gone, and nobody waits for this job any more


class _Worker:
    __slots__ = ("job", "lock", "pool", "running", "thread")

    def __init__(self, pool: WorkerPool, job: WorkerJob) -> None:
        self.pool = pool
        #: The job to run next or being run; None tells the worker to exit.
        self.job: WorkerJob | None = job
        self.running = False
        self.lock = allocate_lock()
        self.lock.acquire()
        self.thread: Thread | None = None

    def __call__(self) -> None:
        pool = self.pool
        lock = self.lock
        job = self.job
        while job is not None:
            self.running = True
            job.run()
            self.running = False
            # Park before reporting back, so that a caller woken by the report finds
            # this worker idle rather than starting another.
            parked = pool.park(self)
            job.deliver()
            del job
            if not parked:
                return
            if not lock.acquire(True, IDLE_TIMEOUT):
                if pool.unpark(self):
                    return
                lock.acquire()  # submit() or close() popped this worker: it is coming
            job = self.job


class WorkerPool:
    __slots__ = ("closed", "idle", "name", "workers")

    def __init__(self, token: EventLoopToken) -> None:
        self.name = f"anyrun worker ({token._backend.name})"
        #: Parked workers, the most recently parked last (popitem() takes it first).
        self.idle: dict[_Worker, None] = {}
        self.workers: set[_Worker] = set()
        self.closed = False

    def submit(self, job: WorkerJob) -> None:
        try:
            worker = self.idle.popitem()[0]
        except KeyError:
            self._spawn(job)
        else:
            worker.job = job
            worker.lock.release()

    def _spawn(self, job: WorkerJob) -> None:
        if self.closed:
            raise RuntimeError(
                "to_thread.run_sync() was called while the event loop is finishing"
            )
        import threading

        worker = _Worker(self, job)
        worker.thread = threading.Thread(target=worker, name=self.name, daemon=True)
        self.workers = {w for w in self.workers if w.thread and w.thread.is_alive()}
        self.workers.add(worker)
        worker.thread.start()

    def park(self, worker: _Worker) -> bool:
        """Make a worker that has finished a job idle; False if it should exit."""
        if self.closed:
            return False
        self.idle[worker] = None
        if self.closed:  # close() ran meanwhile; one of us takes the worker out
            try:
                del self.idle[worker]
            except KeyError:
                return True  # close() took it, and tells it to exit
            return False
        return True

    def unpark(self, worker: _Worker) -> bool:
        """Take a worker whose wait timed out out of the idle dict; False if the
        loop took it first, to give it a job."""
        try:
            del self.idle[worker]
        except KeyError:
            return False
        return True

    def close(self, join: bool) -> None:
        """Stop the idle workers and, if ``join``, wait for every worker except those
        still running a job their caller abandoned (which cannot be interrupted,
        and may never return: think of ``input()``)."""
        self.closed = True
        while True:
            try:
                worker = self.idle.popitem()[0]
            except KeyError:
                break
            worker.job = None
            worker.lock.release()
        if join:
            for worker in list(self.workers):
                job = worker.job
                if worker.running and job is not None and job.abandoned:
                    continue
                assert worker.thread is not None
                worker.thread.join()
