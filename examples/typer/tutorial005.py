"""An async command written with trio: with trio installed, the default engine is
trio, so nothing needs configuring::

    python examples/typer/tutorial005.py Camila --count 3
"""

import sniffio
import trio

from anyrun.typer import Typer

app = Typer()


@app.command()
async def hello(name: str, count: int = 1) -> None:
    for _ in range(count):
        await trio.sleep(0.01)
        print(f"Hello {name} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    app()
