"""Run an async function as a command line program, like typer.run().

Its code uses asyncio directly, so it asks for the asyncio engine::

    python examples/typer/tutorial001.py Camila
"""

import asyncio

import anyrun
import anyrun.typer


async def main(name: str, delay: float = 0.01) -> None:
    await asyncio.sleep(delay)
    print(f"Hello {name}")


if __name__ == "__main__":
    anyrun.typer.run(main, async_runner=anyrun.runner(backend="asyncio"))
