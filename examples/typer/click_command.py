"""An async Click command: @anyrun.entrypoint turns it into the plain function
@click.command() expects, keeping its parameters and docstring for --help::

    python examples/typer/click_command.py Camila --count 2
"""

import click
import sniffio

import anyrun


@click.command()
@click.argument("name")
@click.option("--count", default=1, help="How many times to say hello.")
@anyrun.entrypoint
async def hello(name: str, count: int) -> None:
    """Say hello to NAME, slowly."""
    for _ in range(count):
        await anyrun.sleep(0.01)
        click.echo(f"Hello {name} ({sniffio.current_async_library()})")


if __name__ == "__main__":
    hello()
