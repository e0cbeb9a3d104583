# SPDX-License-Identifier: MIT
"""The scenario registry: every benchmark bench/run knows, how to run it in
quick and full mode, how to run its count pass, and what to expect of it.

A scenario is one program that measures coil and its baseline(s) in the
same process, alternating their reps (A B A B ...), and prints RESULT lines
(bench/common.h). To add one, append a Scenario below; bench/README.md
("Adding a scenario") says what the program must do.
"""
import os
from dataclasses import dataclass, field


@dataclass
class Scenario:
    name: str                 # what --only takes; the program's name
    describe: str             # one line: coil's side vs the baseline's
    baselines: str            # what it is compared with (bench/baselines/)
    quick: list               # arguments in quick mode
    full: list                # arguments in full mode
    count: list = None        # arguments of the short count pass; None: none
    est_quick: float = 10     # seconds one run takes, for "time left"
    est_full: float = 60
    limit_quick: int = 300    # a run is killed after this many seconds
    limit_full: int = 1200
    max_runs: int = 0         # cap on repetitions by bench/run (0: none)
    server: bool = False      # has a server and a load generator
    load_generators: tuple = ()   # their process names (comm), if server
    script: str = ''          # a script in the source tree to run instead
    build_arg: bool = False   # pass --build DIR to it
    note: str = ''            # shown when it is skipped

    def command(self, root, build, mode):
        """The argv of one run, or None when the program is not there."""
        args = list(self.quick if mode == 'quick' else self.full)
        if mode == 'count':
            args = list(self.count or [])
        prog = os.path.join(build, 'bench', self.name)
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            prog = None
            if self.script:
                path = os.path.join(root, self.script)
                if os.path.isfile(path):
                    prog = path
        if prog is None:
            return None
        if self.build_arg:
            args += ['--build', build]
        if prog.endswith('.sh'):
            return ['bash', prog] + args
        return [prog] + args

    def estimate(self, mode):
        return self.est_quick if mode == 'quick' else self.est_full

    def limit(self, mode):
        return self.limit_quick if mode != 'full' else self.limit_full


SCENARIOS = [
    Scenario(
        name='ctx_switch',
        describe='one-way context switch: coil__ctx_switch and coil_yield '
                 'vs swapcontext(3)',
        baselines='swapcontext (glibc)',
        quick=['10M', '5'], full=['20M', '7'], count=['1M', '1'],
        est_quick=3, est_full=9),
    Scenario(
        name='spawn_join',
        describe='spawn + join of a task that returns at once, batched '
                 'and one at a time, vs pthread_create + pthread_join',
        baselines='pthreads',
        quick=['1M', '5', '5000'], full=['1M', '7', '20000'],
        count=['100k', '1', '1000'],
        est_quick=4, est_full=18),
    Scenario(
        name='nop',
        describe='IORING_OP_NOP round trip through coil\'s op path, 1 to '
                 '256 in flight, vs a bare liburing loop on the same ring',
        baselines='raw liburing',
        quick=['500k', '5'], full=['1M', '7'], count=['100k', '1'],
        est_quick=3, est_full=10),
    Scenario(
        name='sleepers',
        describe='N coroutines asleep at once (100k quick, 1M full): '
                 'wall time and RSS per coroutine vs asyncio',
        baselines='Python asyncio (bench/baselines/sleepers.py)',
        quick=['--quick'], full=[], count=['10k'],
        est_quick=9, est_full=75),
    Scenario(
        name='queue',
        describe='queue hand-off producer -> consumer (capacity 1, 1024, '
                 'from 4 threads) vs a mutex+condvar queue, asyncio.Queue '
                 'and Go channels',
        baselines='pthread mutex queue; asyncio.Queue '
                  '(bench/baselines/queue_asyncio.py); Go channels '
                  '(bench/baselines/queue_chan.go, if go is installed)',
        quick=['50000', '3'], full=[], count=['20000', '1'],
        est_quick=13, est_full=75),
    Scenario(
        name='echo',
        describe='TCP echo server: requests/s and latency under a closed '
                 'loop of connections, coil vs epoll and raw io_uring '
                 'servers',
        baselines='epoll and liburing echo servers '
                  '(bench/baselines/echo_*.c); load: bench/echo_load.c',
        quick=['--quick'], full=['--full'], count=None,
        est_quick=50, est_full=1080, limit_quick=240, limit_full=1800,
        max_runs=1, server=True, load_generators=('echo_load',),
        script='bench/echo.sh', build_arg=True,
        note='needs the echo programs (bench/echo.c or bench/echo.sh, '
             'bench/echo_load.c); not counted in a separate pass: one '
             'quick run alone takes ~45 s'),
    Scenario(
        name='idle_conns',
        describe='server RSS per idle TCP connection: a multishot receive '
                 'into a shared provided-buffer ring vs a 16 KiB receive '
                 'buffer per connection',
        baselines='the same coil server with coil_recv into a per-task '
                  'buffer (bench/idle_conns.c)',
        quick=['2000', '1'], full=['10000', '3'], count=None,
        est_quick=3, est_full=8, max_runs=1),
    Scenario(
        name='http_client',
        describe='HTTP client: N GETs, 64 in flight, through one session '
                 'against a local epoll keep-alive responder; coil native '
                 'vs coil\'s libcurl path vs aiohttp',
        baselines='coil\'s libcurl path (curl multi driven by the ring); '
                  'Python aiohttp (bench/baselines/http_client_aiohttp.py, '
                  '/usr/bin/python3 + python3-aiohttp)',
        quick=['5000', '3'], full=['20000', '5'], count=['1000', '1'],
        est_quick=10, est_full=45, limit_quick=120, limit_full=600),
    Scenario(
        name='http_server',
        describe='HTTP/1.1 hello world under wrk (64 keep-alive '
                 'connections): examples/http_hello vs nginx, one core '
                 'each, same bytes per response',
        baselines='nginx, one worker, return 200, access log off '
                  '(bench/baselines/nginx.conf); load: wrk',
        quick=['--quick'], full=['--full'], count=None,
        est_quick=25, est_full=70, limit_quick=120, limit_full=600,
        max_runs=1, server=True, load_generators=('wrk',),
        build_arg=True,
        note='needs bench/http_server and examples/http_hello; skips '
             'itself when wrk or nginx is missing; counts its servers\' '
             'system calls itself'),
]

BY_NAME = {s.name: s for s in SCENARIOS}
