"""One engine for a whole app, here asyncio with uvloop; a sub-app added with
add_typer() uses it too, unless it sets its own::

    python examples/typer/tutorial008.py loop
    python examples/typer/tutorial008.py users create Camila
"""

import asyncio

import anyrun
from anyrun.typer import Typer

app = Typer(
    async_runner=anyrun.runner(backend="asyncio", backend_options={"use_uvloop": True})
)
users = Typer()
app.add_typer(users, name="users")


def loop_name() -> str:
    """The package of the running event loop: "uvloop" or "asyncio"."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


@app.command()
async def loop() -> None:
    """Show which event loop runs the commands."""
    await asyncio.sleep(0)
    print(f"Running on {loop_name()}")


@users.command()
async def create(name: str) -> None:
    await asyncio.sleep(0.01)
    print(f"Created user {name} ({loop_name()})")


if __name__ == "__main__":
    app()
