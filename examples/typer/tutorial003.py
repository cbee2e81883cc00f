"""Async and regular commands side by side; the async one uses asyncio directly,
so the app asks for the asyncio engine::

    python examples/typer/tutorial003.py hello Camila
    python examples/typer/tutorial003.py wait --seconds 0.5
"""

import asyncio

import anyrun
from anyrun.typer import Typer

app = Typer(async_runner=anyrun.runner(backend="asyncio"))


@app.command()
def hello(name: str) -> None:
    """Say hello, synchronously."""
    print(f"Hello {name}")


@app.command()
async def wait(seconds: float = 0.01) -> None:
    """Wait, without blocking the event loop."""
    await asyncio.sleep(seconds)
    print(f"Waited {seconds} s")


if __name__ == "__main__":
    app()
