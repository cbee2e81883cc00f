"""Blocking calls in worker threads, while the event loop keeps running."""

import hashlib

import anyrun


def digest(data: bytes) -> str:
    # Stands for any blocking call: file I/O, a database driver, a C library.
    return hashlib.sha256(data).hexdigest()[:12]


async def main() -> None:
    chunks = [b"alpha", b"beta", b"gamma"]
    limiter = anyrun.CapacityLimiter(2)  # at most 2 threads at once for this job
    digests = {}

    async def one(chunk: bytes) -> None:
        digests[chunk] = await anyrun.to_thread.run_sync(digest, chunk, limiter=limiter)

    async with anyrun.create_task_group() as tg:
        for chunk in chunks:
            tg.start_soon(one, chunk)
    for chunk in chunks:
        print(chunk.decode(), digests[chunk])


if __name__ == "__main__":
    anyrun.run(main)
