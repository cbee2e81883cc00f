"""Async commands written with anyrun run on the default engine: trio if it is
installed, else asyncio::

    python examples/typer/tutorial004.py hello Camila
    python examples/typer/tutorial004.py goodbye Camila --formal
"""

import sniffio

import anyrun
from anyrun.typer import Typer

app = Typer()


@app.command()
async def hello(name: str) -> None:
    await anyrun.sleep(0.01)
    print(f"Hello {name} ({sniffio.current_async_library()})")


@app.command()
async def goodbye(name: str, formal: bool = False) -> None:
    await anyrun.sleep(0.01)
    greeting = "Goodbye" if formal else "Bye"
    print(f"{greeting} {name} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    app()
