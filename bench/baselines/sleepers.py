#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sleepers - bench/sleepers.c's baseline in Python asyncio: N coroutines
each sleep one second, created with create_task and awaited with gather
(the lecture's pattern).

Usage: sleepers.py [N]   (default 1000000)
Prints one machine-readable line:
  RESULT name=asyncio_sleepers n=N spawn_s=.. wall_s=.. maxrss_kb=..
         alive_max=.. woke=..
wall_s runs from before asyncio.run() to after it returns; alive_max is
the high-water mark of coroutines inside asyncio.sleep() at once.
Exits nonzero unless every coroutine slept once, all at the same time.
"""
import asyncio
import resource
import sys
import time

asleep = 0
alive_max = 0
woke = 0


async def sleeper():
    global asleep, alive_max, woke
    asleep += 1
    if asleep > alive_max:
        alive_max = asleep
    await asyncio.sleep(1)
    asleep -= 1
    woke += 1


async def main(n, times):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    times["spawn"] = time.perf_counter() - t0
    await asyncio.gather(*tasks)


def run():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    times = {}
    t0 = time.perf_counter()
    asyncio.run(main(n, times))
    wall = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT name=asyncio_sleepers n={n} spawn_s={times['spawn']:.3f} "
          f"wall_s={wall:.3f} maxrss_kb={maxrss} alive_max={alive_max} "
          f"woke={woke}", flush=True)
    if alive_max != n or woke != n:
        sys.exit(f"sleepers.py: {alive_max} asleep at once, {woke} woke; "
                 f"want {n}")


if __name__ == "__main__":
    run()
