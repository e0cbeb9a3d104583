#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The aiohttp baseline of bench/http_client.c: the lecture's
web_async_tasks pattern (one ClientSession, tasks that each GET and read
the body) doing N GETs of URL with CONC requests in flight.

Usage: http_client_aiohttp.py URL N CONC
Prints: rps=<requests per second> ok=<200 responses> bytes=<body bytes>
Run with Debian's /usr/bin/python3, where python3-aiohttp installs.
"""
import asyncio
import sys
import time

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        body = await resp.read()
        return resp.status, len(body)


async def worker(session, url, n, out):
    for _ in range(n):
        status, size = await fetch(session, url)
        out[0] += status == 200
        out[1] += size


async def main(url, n, conc):
    out = [0, 0]
    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        per = [n // conc + (i < n % conc) for i in range(conc)]
        await asyncio.gather(*(worker(session, url, k, out) for k in per))
        dt = time.perf_counter() - t0
    print(f'rps={n / dt:.1f} ok={out[0]} bytes={out[1]}', flush=True)


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
