"""The pytest plugin, tested with pytester: each test writes a small project and runs
pytest on it, in this process where that is safe and fast, in a child process where
the run must be isolated (a missing backend, Ctrl+C).

``pytest -s -k sample tests/test_pytest_plugin.py`` shows the output of the sample
project's run.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import signal
import subprocess
import sys
import time

import hypothesis  # noqa: F401
import pytest

import anyrun

pytest_plugins = ["pytester"]

# The runs in this process restore sys.modules after them. A module they imported
# first would be imported again later, as a second copy with state of its own, while
# anyrun keeps using the first (the backend it loaded, say): so every module of anyrun
# is imported here, before them (and hypothesis, which takes a second to import).
for _module in pkgutil.walk_packages(anyrun.__path__, "anyrun."):
    if not _module.name.endswith("__main__"):
        # (Skipping the modules of optional extras, such as typer, not installed.)
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(_module.name)

BACKENDS = ["asyncio", "asyncio+uvloop", "trio"]

# Imported by the inner tests: which backend runs this code, and a log of events in
# the order they happened, kept in a file so that it survives the inner run.
HELPERS = """
    import asyncio

    import sniffio


    def which():
        name = sniffio.current_async_library()
        if name == "asyncio" and "uvloop" in repr(asyncio.get_running_loop()):
            return "asyncio+uvloop"
        return name


    def log(line):
        with open("log.txt", "a") as file:
            print(line, file=file)
"""


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(helpers=HELPERS)
    pytester.syspathinsert()
    return pytester


def read_log(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "log.txt"
    return path.read_text().splitlines() if path.exists() else []


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In this process: quick, and safe for runs that end normally.
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def run_in_child(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=60)


# Marker and modes


def test_marker_on_a_test_a_class_and_a_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_function="""
            import pytest
            from helpers import which

            @pytest.mark.anyrun
            async def test_marked():
                assert which() in ("asyncio", "asyncio+uvloop", "trio")

            async def test_requests_the_backend(anyrun_backend):
                assert which()

            def test_sync():
                pass
        """,
        test_class="""
            import pytest

            @pytest.mark.anyrun
            class TestMarked:
                async def test_method(self):
                    assert isinstance(self, TestMarked)

                def test_sync(self):
                    pass
        """,
        test_module="""
            import pytest

            pytestmark = pytest.mark.anyrun

            async def test_in_module():
                pass
        """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=4 * len(BACKENDS) + 2)


@pytest.mark.parametrize("how", ["ini", "flag"])
def test_auto_mode_runs_unmarked_async_tests(
    pytester: pytest.Pytester, how: str
) -> None:
    pytester.makepyfile(
        """
        from helpers import which

        async def test_unmarked():
            assert which()

        class TestUnmarked:
            async def test_method(self):
                assert which()

        def test_sync():
            pass
        """
    )
    if how == "ini":
        pytester.makeini("[pytest]\nanyrun_mode = auto\n")
        result = run(pytester)
    else:
        result = run(pytester, "--anyrun-mode=auto")
    result.assert_outcomes(passed=2 * len(BACKENDS) + 1)


def test_unknown_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nanyrun_mode = sometimes\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*anyrun_mode must be one of strict, auto, not 'sometimes'*"]
    )


def test_strict_mode_leaves_unmarked_async_tests_to_pytest(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("async def test_unmarked():\n    pass\n")
    result = run(pytester, "-W", "default")
    assert "async def functions are not natively supported" in result.stdout.str()
    if pytest.version_tuple >= (8, 4):
        result.assert_outcomes(failed=1)
    else:  # pytest skipped them, with a warning, before 8.4
        result.assert_outcomes(skipped=1, warnings=1)


# Backends


def test_runs_on_every_backend_with_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from helpers import which

        @pytest.mark.anyrun
        async def test_backend(
            anyrun_backend, anyrun_backend_name, anyrun_backend_options
        ):
            print(
                f"ran {which()}:", anyrun_backend, anyrun_backend_name,
                anyrun_backend_options,
            )
        """
    )
    result = run(pytester, "-v", "-s")
    result.assert_outcomes(passed=3)
    output = result.stdout.str()
    assert "::test_backend[asyncio] ran asyncio: asyncio asyncio {}" in output
    assert (
        "::test_backend[asyncio+uvloop] ran asyncio+uvloop: "
        "('asyncio', {'use_uvloop': True}) asyncio {'use_uvloop': True}" in output
    )
    assert "::test_backend[trio] ran trio: trio trio {}" in output


def test_overriding_anyrun_backend_at_every_scope(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from helpers import which

        @pytest.fixture(scope="session")
        def anyrun_backend():
            return "trio"

        @pytest.fixture(scope="session")
        async def session_resource():
            return which()
        """
    )
    pytester.makepyfile(
        test_session="""
            import pytest
            from helpers import which

            @pytest.mark.anyrun
            async def test_session(session_resource):
                assert which() == session_resource == "trio"
        """,
        test_module="""
            import pytest
            from helpers import which

            @pytest.fixture(scope="module")
            def anyrun_backend():
                return ("asyncio", {"use_uvloop": True})

            @pytest.fixture(scope="module")
            async def module_resource():
                return which()

            @pytest.mark.anyrun
            async def test_module(module_resource, anyrun_backend_options):
                assert which() == module_resource == "asyncio+uvloop"
                assert anyrun_backend_options == {"use_uvloop": True}
        """,
        test_function="""
            import pytest
            from helpers import which

            @pytest.fixture
            def anyrun_backend():
                return "asyncio"

            @pytest.mark.anyrun
            async def test_function():
                assert which() == "asyncio"
        """,
        test_parametrize="""
            import pytest
            from helpers import which

            @pytest.mark.anyrun
            @pytest.mark.parametrize("anyrun_backend", ["trio", "asyncio"])
            async def test_parametrized(anyrun_backend):
                assert which() == anyrun_backend
        """,
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(
        [
            "*test_session.py::test_session PASSED*",
            "*test_module.py::test_module PASSED*",
            "*test_function.py::test_function PASSED*",
            "*test_parametrized?trio? PASSED*",
            "*test_parametrized?asyncio? PASSED*",
        ]
    )


def test_a_backend_that_is_not_installed_is_skipped(pytester: pytest.Pytester) -> None:
    # As if trio and uvloop were not installed: find_spec() answers None for them,
    # and importing them fails. In a child process, not to break this one.
    pytester.makeconftest(
        """
        import sys

        sys.modules["trio"] = sys.modules["uvloop"] = None
        """
    )
    pytester.makepyfile(
        test_default="""
            import pytest

            @pytest.mark.anyrun
            async def test_default():
                pass
        """,
        test_override="""
            import pytest

            @pytest.fixture
            def anyrun_backend():
                return "trio"

            @pytest.mark.anyrun
            async def test_override():
                pass
        """,
    )
    # (Hypothesis's plugin would load trio's entry point for it, and fail.)
    result = run_in_child(pytester, "-rs", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1, skipped=3)
    # Reported at the tests, never in the plugin.
    result.stdout.re_match_lines_random(
        [
            r"SKIPPED .* test_default.py:\d+: uvloop is not installed: "
            r'pip install "anyrun\[uvloop\]"',
            r"SKIPPED .* test_default.py:\d+: trio is not installed: "
            r'pip install "anyrun\[trio\]"',
            r"SKIPPED .* test_override.py:\d+: trio is not installed: "
            r'pip install "anyrun\[trio\]"',
        ]
    )


def test_unknown_backend_or_option_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.anyrun
        @pytest.mark.parametrize(
            "anyrun_backend", ["curio", ("asyncio", {"use_uvlop": True}), 42]
        )
        async def test_backend():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*LookupError: No such backend: 'curio'*",
            "*TypeError: Unknown option for the asyncio backend: use_uvlop*",
            "*TypeError: anyrun_backend must be a backend name such as 'trio'*",
        ]
    )


# Async fixtures


def test_async_fixtures_of_every_scope_set_up_and_tear_down_in_order(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest
        from helpers import log, which

        @pytest.fixture(scope="session")
        async def database():
            log(f"database up on {which()}")
            yield
            log(f"database down on {which()}")
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from helpers import log, which

        pytestmark = pytest.mark.anyrun

        @pytest.fixture(scope="module")
        async def server(database):
            log(f"server up on {which()}")
            yield
            log(f"server down on {which()}")

        @pytest.fixture
        async def connection(server):
            log(f"connection up on {which()}")
            yield
            log(f"connection down on {which()}")

        async def test_passes(connection):
            log(f"test_passes on {which()}")

        async def test_fails(connection):
            log(f"test_fails on {which()}")
            raise AssertionError("on purpose")
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3, failed=3)
    # The wider-scoped fixtures end before the backend changes, though they do not
    # request anyrun_backend themselves.
    assert read_log(pytester) == [
        line.format(backend)
        for backend in BACKENDS
        for line in [
            "database up on {}",
            "server up on {}",
            "connection up on {}",
            "test_passes on {}",
            "connection down on {}",
            "connection up on {}",
            "test_fails on {}",
            "connection down on {}",
            "server down on {}",
            "database down on {}",
        ]
    ]


def test_fixture_and_tests_share_the_loop_and_the_context(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import contextvars

        import pytest
        import sniffio

        pytestmark = pytest.mark.anyrun
        var = contextvars.ContextVar("var")

        def current_loop():
            if sniffio.current_async_library() == "trio":
                import trio
                return trio.lowlevel.current_trio_token()
            return asyncio.get_running_loop()

        def new_event():
            if sniffio.current_async_library() == "trio":
                import trio
                return trio.Event()
            return asyncio.Event()

        @pytest.fixture(scope="module")
        async def shared():
            return {"loop": current_loop(), "event": new_event()}

        @pytest.fixture
        async def with_var():
            var.set("from the fixture")
            yield
            assert var.get() == "from the test"

        async def test_first(shared, with_var):
            assert current_loop() is shared["loop"]
            assert var.get() == "from the fixture"
            var.set("from the test")
            shared["event"].set()

        async def test_second(shared):
            assert current_loop() is shared["loop"]
            await shared["event"].wait()  # set by test_first, on this loop
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=6)


def test_fixture_methods_are_bound_to_the_test_instance(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from helpers import which

        @pytest.mark.anyrun
        class TestFixtureMethods:
            @pytest.fixture
            async def prepared(self):
                self.prepared_on = which()
                return self

            @pytest.fixture
            async def generated(self):
                self.generated_on = which()
                yield self
                assert self.test_ran

            async def test_self(self, prepared, generated):
                assert prepared is self
                assert generated is self
                assert self.prepared_on == self.generated_on == which()
                self.test_ran = True
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3)


def test_the_runner_outlives_cancellations(pytester: pytest.Pytester) -> None:
    # A test may cancel the scope that a fixture holds open around it (here, a
    # nursery), or its own task: the runner's task, which the tests share, goes on.
    pytester.makepyfile(
        """
        import asyncio
        import sys

        import pytest
        import sniffio

        pytestmark = pytest.mark.anyrun

        @pytest.fixture(scope="module")
        async def cancel():
            if sniffio.current_async_library() == "trio":
                import trio

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(trio.sleep_forever)
                    yield nursery.cancel_scope.cancel
            else:
                # A cancellation that arrives once the test has returned.
                yield lambda: asyncio.get_running_loop().call_soon(
                    asyncio.current_task().cancel
                )

        async def test_cancels(cancel):
            cancel()

        async def test_runs_after(cancel):
            pass

        @pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling()")
        async def test_cancels_its_own_task():
            if sniffio.current_async_library() == "asyncio":
                asyncio.current_task().cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.sleep(0)

        @pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling()")
        async def test_is_not_cancelled_by_the_last_one():
            if sniffio.current_async_library() == "asyncio":
                assert asyncio.current_task().cancelling() == 0
        """
    )
    result = run(pytester)
    if sys.version_info >= (3, 11):
        result.assert_outcomes(passed=4 * len(BACKENDS))
    else:
        result.assert_outcomes(passed=2 * len(BACKENDS), skipped=2 * len(BACKENDS))


# Failures read well


def test_tracebacks_show_the_users_code_not_the_plugins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.anyrun

        async def helper():
            raise ValueError("raised in helper")

        @pytest.fixture
        async def fails_in_setup():
            await helper()

        @pytest.fixture
        async def fails_in_teardown():
            yield
            raise RuntimeError("raised in teardown")

        async def test_fails():
            await helper()

        async def test_setup_fails(fails_in_setup):
            pass

        async def test_teardown_fails(fails_in_teardown):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3, failed=3, errors=6)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_setup_fails?asyncio?*",
            "    @pytest.fixture",
            "    async def fails_in_setup():",
            ">       await helper()",
            "",
            "test_tracebacks_show_the_users_code_not_the_plugins.py:*: ",
            "*",
            "    async def helper():",
            '>       raise ValueError("raised in helper")',
            "E       ValueError: raised in helper",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_teardown_fails?trio?*",
            "    @pytest.fixture",
            "    async def fails_in_teardown():",
            "        yield",
            '>       raise RuntimeError("raised in teardown")',
            "E       RuntimeError: raised in teardown",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails?asyncio+uvloop? _*",
            "    async def test_fails():",
            ">       await helper()",
        ]
    )
    output = result.stdout.str()
    for internal in ("pytest_plugin.py", "_testing.py", "base_events.py", "_core"):
        assert internal not in output


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_keyboard_interrupt_in_a_test_stops_the_run(
    pytester: pytest.Pytester, backend: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.fixture
        def anyrun_backend():
            return {backend!r}

        @pytest.mark.anyrun
        async def test_interrupts():
            raise KeyboardInterrupt

        def test_later():
            pass
        """
    )
    result = run_in_child(pytester, "-v")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*! KeyboardInterrupt !*",
            "*test_keyboard_interrupt_in_a_test_stops_the_run.py:*: KeyboardInterrupt",
        ]
    )
    assert "test_later" not in result.stdout.str()


def test_system_exit_in_a_test_fails_that_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.anyrun

        async def test_exits():
            raise SystemExit(3)

        async def test_later():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=3, passed=3)
    assert result.stdout.lines.count("E       SystemExit: 3") == 3


HANGS = """
    import pytest
    import anyrun

    @pytest.fixture(scope="module")
    def anyrun_backend():
        return {backend!r}

    @pytest.fixture(scope="module")
    async def server():
        yield
        print("server closed", flush=True)

    @pytest.fixture
    async def connection(server):
        yield
        await anyrun.sleep(0)
        print("connection closed", flush=True)

    @pytest.mark.anyrun
    async def test_hangs(connection):
        try:
            print("ready", flush=True)
            await anyrun.sleep_forever()
        finally:
            print("test cleaned up", flush=True)

    def test_later():
        pass
"""


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_interrupts_a_hanging_test(
    pytester: pytest.Pytester, backend: str
) -> None:
    test_file = pytester.makepyfile(HANGS.format(backend=backend))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-s"]
    with subprocess.Popen(
        [*command, str(test_file)],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        assert child.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].endswith("ready"):
            line = child.stdout.readline()
            assert line, "".join(lines)
            lines.append(line.rstrip())
        interrupted_at = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
        took = time.monotonic() - interrupted_at
    output = "\n".join(lines) + "\n" + out
    assert child.returncode == pytest.ExitCode.INTERRUPTED, output
    assert took < 10, output
    # The test, then the fixtures, cleaned up on their loop; nothing else ran.
    closing = ["test cleaned up", "connection closed", "server closed"]
    assert [line for line in output.splitlines() if line in closing] == closing
    assert "! KeyboardInterrupt !" in output
    assert "test_later" not in output


def test_a_timeout_cancels_a_hanging_test(pytester: pytest.Pytester) -> None:
    # pytest-timeout interrupts the test like Ctrl+C; then the run goes on.
    pytester.makepyfile(
        """
        import pytest
        import anyrun

        @pytest.fixture(params=["asyncio", "trio"])
        def anyrun_backend(request):
            return request.param

        @pytest.mark.anyrun
        async def test_hangs():
            try:
                await anyrun.sleep_forever()
            finally:
                print("cleaned up")

        @pytest.mark.anyrun
        async def test_later():
            pass
        """
    )
    result = run_in_child(pytester, "-s", "-o", "timeout=1")
    result.assert_outcomes(failed=2, passed=2)
    output = result.stdout.str()
    assert output.count("cleaned up") == 2
    assert output.count("Failed: Timeout (>1.0s) from pytest-timeout.") == 2


def test_a_task_left_running_is_reported(pytester: pytest.Pytester) -> None:
    test_file = pytester.makepyfile(
        """
        import asyncio

        import anyrun
        import pytest
        import sniffio

        pytestmark = pytest.mark.anyrun

        @pytest.fixture(scope="module")
        async def start_soon():
            if sniffio.current_async_library() == "trio":
                import trio
                async with trio.open_nursery() as nursery:
                    yield nursery.start_soon
                    nursery.cancel_scope.cancel()
            else:
                tasks = []
                yield lambda func: tasks.append(asyncio.ensure_future(func()))
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        async def test_leaves_a_task(start_soon):
            start_soon(anyrun.sleep_forever)

        async def test_task_ends_soon_after(start_soon):
            async def brief():
                await anyrun.sleep(0)
                await anyrun.sleep(0)

            start_soon(brief)
        """
    )
    result = run(pytester, "-W", "default")
    result.assert_outcomes(passed=6, warnings=3)
    # Reported at the test, with the task that was left.
    source = test_file.read_text().splitlines()
    line = source.index("async def test_leaves_a_task(start_soon):") + 1
    result.stdout.fnmatch_lines_random(
        [
            f"*{test_file.name}:{line}: TaskLeftRunningWarning: "
            f"test_leaves_a_task[[]{backend}[]] returned while 1 task(s) it started "
            f"were still running: <Task *sleep_forever*"
            for backend in BACKENDS
        ]
    )
    assert "test_task_ends_soon_after" not in result.stdout.str()


def test_hypothesis_runs_many_examples_on_every_backend(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from hypothesis import given, settings, strategies as st
        from helpers import log, which

        pytestmark = pytest.mark.anyrun

        @settings(max_examples=20, database=None)
        @given(st.integers())
        async def test_function(number):
            log(f"function {which()}")

        class TestClass:
            @settings(max_examples=10, database=None)
            @given(number=st.integers())
            async def test_method(self, number):
                assert isinstance(self, TestClass)
                log(f"method {which()}")
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=6)
    log = read_log(pytester)
    for backend in BACKENDS:
        assert log.count(f"function {backend}") == 20
        assert log.count(f"method {backend}") == 10


# The sample project of the issue: a fake key-value server started as a background
# task by a module-scoped fixture, connections to it, and three test modules.

SAMPLE_CONFTEST = """
    import asyncio
    import contextvars

    import pytest
    import sniffio
    from helpers import log, which

    current_user = contextvars.ContextVar("current_user")


    class Server:
        def __init__(self):
            self.data = {}
            self.requests = []
            self.wakeup = new_event()

        async def serve(self):
            while True:
                await self.wakeup.wait()
                self.wakeup = new_event()
                while self.requests:
                    key, value, reply = self.requests.pop(0)
                    if value is not None:
                        self.data[key] = value
                    reply.append(self.data.get(key))
                    reply[0].set()


    class Connection:
        def __init__(self, server):
            self.server = server

        async def request(self, key, value=None):
            reply = [new_event()]
            self.server.requests.append((key, value, reply))
            self.server.wakeup.set()
            await reply[0].wait()
            return reply[1]


    def new_event():
        if sniffio.current_async_library() == "trio":
            import trio

            return trio.Event()
        return asyncio.Event()


    @pytest.fixture(scope="module")
    async def server(request):
        name = request.module.__name__
        log(f"{name}: server starts on {which()}")
        server = Server()
        if sniffio.current_async_library() == "trio":
            import trio

            async with trio.open_nursery() as nursery:
                nursery.start_soon(server.serve)
                yield server
                nursery.cancel_scope.cancel()
        else:
            task = asyncio.ensure_future(server.serve())
            yield server
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        log(f"{name}: server stops on {which()}")


    @pytest.fixture
    async def connection(server):
        current_user.set("alice")
        yield Connection(server)
        log(f"  disconnected after {len(server.data)} key(s)")
"""

SAMPLE_TESTS = {
    "test_store": """
        import pytest

        pytestmark = pytest.mark.anyrun

        async def test_put(connection):
            assert await connection.request("answer", 42) == 42

        async def test_get_in_the_same_module(connection):
            assert await connection.request("answer") == 42
    """,
    "test_fresh_server": """
        import pytest

        pytestmark = pytest.mark.anyrun

        async def test_a_new_module_gets_a_new_server(connection):
            assert await connection.request("answer") is None

        async def test_fails_and_still_disconnects(connection):
            await connection.request("question", "?")
            assert await connection.request("question") == "!"
    """,
    "test_context": """
        import pytest
        from conftest import current_user

        @pytest.mark.anyrun
        class TestContext:
            async def test_sees_the_fixtures_context(self, connection):
                assert current_user.get() == "alice"
    """,
}


def test_sample_project(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SAMPLE_CONFTEST)
    pytester.makepyfile(**SAMPLE_TESTS)
    result = run_in_child(pytester, "-v")  # pytester prints its output (with -s)
    print("log.txt:", *read_log(pytester), sep="\n")
    result.assert_outcomes(passed=4 * len(BACKENDS), failed=len(BACKENDS))
    assert read_log(pytester) == [
        line.format(backend)
        for backend in BACKENDS
        for line in [
            "test_context: server starts on {}",
            "  disconnected after 0 key(s)",
            "test_context: server stops on {}",
            "test_fresh_server: server starts on {}",
            "  disconnected after 0 key(s)",
            "  disconnected after 1 key(s)",
            "test_fresh_server: server stops on {}",
            "test_store: server starts on {}",
            "  disconnected after 1 key(s)",
            "  disconnected after 1 key(s)",
            "test_store: server stops on {}",
        ]
    ]
