"""A synchronous program that uses an async library for a while."""

import anyrun
from anyrun.from_thread import start_blocking_portal


async def fetch(name: str) -> str:
    await anyrun.sleep(0.01)  # stands for an async HTTP client
    return f"contents of {name}"


def main(backend: str = "asyncio") -> None:
    # The event loop runs in a new thread until the block ends.
    with start_blocking_portal(backend) as portal:
        print(portal.call(fetch, "a.txt"))
        # Several calls at once, as tasks of the portal:
        futures = [portal.start_task_soon(fetch, name) for name in ("b.txt", "c.txt")]
        for future in futures:
            print(future.result())


if __name__ == "__main__":
    main()
