"""A thread that anyrun did not start calls into the event loop with a token."""

import threading

import anyrun
import anyrun.lowlevel


async def store(message: str) -> str:
    await anyrun.sleep(0)  # stands for async work: a database, a socket
    return f"stored {message!r}"


def on_message(token: anyrun.lowlevel.EventLoopToken, message: str) -> None:
    # Called in a thread of its own, as a library calls its callbacks.
    print(anyrun.from_thread.run(store, message, token=token))


async def main() -> None:
    token = anyrun.lowlevel.current_token()
    thread = threading.Thread(target=on_message, args=(token, "hello"))
    thread.start()
    # Wait without blocking the event loop, which must serve the thread's call.
    await anyrun.to_thread.run_sync(thread.join)


if __name__ == "__main__":
    anyrun.run(main)
