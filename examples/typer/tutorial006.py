"""A callback on one engine and its commands on another, in one invocation: each
async function runs in an event loop of its own::

    python examples/typer/tutorial006.py --verbose hello Camila
"""

import asyncio

import sniffio
import trio

import anyrun
from anyrun.typer import Typer

app = Typer(async_runner=anyrun.runner(backend="asyncio"))


@app.callback(async_runner=anyrun.runner(backend="trio"))
async def main(verbose: bool = False) -> None:
    """Greet people, with trio and asyncio."""
    await trio.sleep(0.01)
    if verbose:
        print(f"Starting ({sniffio.current_async_library()})")


@app.command()
async def hello(name: str) -> None:
    await asyncio.sleep(0.01)
    print(f"Hello {name} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    app()
