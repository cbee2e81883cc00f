"""Sync code calling async code: the views of a threaded web framework (Flask,
Django and the like) share one event loop, in a thread of its own, through a portal."""

from concurrent.futures import ThreadPoolExecutor

import anyrun
from anyrun.from_thread import BlockingPortalProvider

# One event loop for every view, started by the first request and stopped after
# the last one.
portal_provider = BlockingPortalProvider(backend="asyncio")


async def fetch_user(user_id: int) -> dict[str, object]:
    await anyrun.sleep(0.01)  # stands for an async database client
    return {"id": user_id, "name": f"user{user_id}"}


def user_view(user_id: int) -> str:
    # A regular view function, as Flask or Django call it, in a request thread.
    with portal_provider as portal:
        user = portal.call(fetch_user, user_id)
    return f"<h1>{user['name']}</h1>"


def main() -> None:
    # Stands for the web server and its request threads.
    with ThreadPoolExecutor(4) as server:
        for page in server.map(user_view, range(1, 5)):
            print(page)


if __name__ == "__main__":
    main()
