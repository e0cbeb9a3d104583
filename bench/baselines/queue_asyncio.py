#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""queue_asyncio - bench/queue.c's baseline in Python asyncio: one producer
task puts N items into an asyncio.Queue, one consumer task gets them.

Usage: queue_asyncio.py [N] [REPS]   (default 1000000 items, 3 reps)
Prints one line per scenario, the median of REPS runs:
  RESULT name=asyncio_cap1 unit=items/s value=123456 items=1000000
"""
import asyncio
import statistics
import sys
import time


async def producer(q, n):
    for i in range(1, n + 1):
        await q.put(i)


async def consumer(q, n):
    total = 0
    for _ in range(n):
        total += await q.get()
    return total


async def one_run(n, maxsize):
    q = asyncio.Queue(maxsize=maxsize)
    start = time.perf_counter()
    _, total = await asyncio.gather(producer(q, n), consumer(q, n))
    took = time.perf_counter() - start
    if total != n * (n + 1) // 2:
        raise SystemExit(f"lost items: sum {total}")
    return n / took


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for name, maxsize in (("asyncio_cap1", 1), ("asyncio_unbounded", 0)):
        rates = [asyncio.run(one_run(n, maxsize)) for _ in range(reps)]
        print(f"RESULT name={name} unit=items/s "
              f"value={statistics.median(rates):.0f} items={n}", flush=True)


if __name__ == "__main__":
    main()
