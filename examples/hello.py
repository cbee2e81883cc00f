"""Say hello from whichever async library runs main().

Run it with any of::

    python -m anyrun examples/hello.py:main                  # on asyncio
    python -m anyrun examples/hello.py:main Alice --uvloop   # on asyncio with uvloop
    python -m anyrun examples/hello.py:main --backend trio   # on trio
    python examples/hello.py                                 # with anyrun.run()
"""

import sniffio

import anyrun


async def main(name: str = "world") -> str:
    await anyrun.sleep(0.01)
    return f"hello {name} from {sniffio.current_async_library()}"


if __name__ == "__main__":
    print(anyrun.run(main))
