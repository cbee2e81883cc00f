"""Run an async function as a command line program, on the default engine.

Written with anyrun, it runs on any backend: trio if it is installed, else asyncio::

    python examples/typer/tutorial002.py Camila
"""

import sniffio

import anyrun
import anyrun.typer


async def main(name: str, delay: float = 0.01) -> None:
    await anyrun.sleep(delay)
    print(f"Hello {name} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    anyrun.typer.run(main)
