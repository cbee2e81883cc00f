"""One command with an engine of its own: ``fetch`` uses asyncio directly, while
``hello`` runs on the default engine (trio if installed, else asyncio)::

    python examples/typer/tutorial007.py hello Camila
    python examples/typer/tutorial007.py fetch https://example.com
"""

import asyncio

import sniffio

import anyrun
from anyrun.typer import Typer

app = Typer()


@app.command()
async def hello(name: str) -> None:
    await anyrun.sleep(0.01)
    print(f"Hello {name} ({sniffio.current_async_library()})")


@app.command(async_runner=anyrun.runner(backend="asyncio"))
async def fetch(url: str) -> None:
    """Pretend to fetch a URL with an asyncio-only client."""
    await asyncio.sleep(0.01)
    print(f"Fetched {url} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    app()
