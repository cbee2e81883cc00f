"""A worker thread reports to the event loop, and stops early if cancelled."""

import anyrun


def crunch(numbers: range, report: list[int]) -> int:
    total = 0
    for done, number in enumerate(numbers, 1):
        anyrun.from_thread.check_cancelled()  # raises if the caller was cancelled
        total += number * number
        # Runs in the event loop's thread; no token needed in a worker thread.
        anyrun.from_thread.run_sync(report.append, done)
    return total


async def main() -> None:
    progress: list[int] = []
    total = await anyrun.to_thread.run_sync(crunch, range(1, 6), progress)
    print("progress:", progress)
    print("total:", total)


if __name__ == "__main__":
    anyrun.run(main)
