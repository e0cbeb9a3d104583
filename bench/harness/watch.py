# SPDX-License-Identifier: MIT
"""Watch a server scenario's load generator processes while it runs: on
which CPUs they may run and how much CPU they use.

A server scenario pins its server and load generator itself (bench/echo
puts them on different CPUs when there are two); the watcher checks what
really happened. Every POLL_S it finds the load generators among the
scenario's descendants by process name and samples /proc. A load generator
that uses nearly all of its CPU may be the bottleneck instead of the
server: the report says so.
"""
import os

POLL_S = 0.1
SATURATED_PCT = 90.0

_TICK = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    """(ppid, comm, cpu seconds, threads, start seconds) of @pid."""
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    comm = s[s.index('(') + 1:s.rindex(')')]
    f = s[s.rindex(')') + 2:].split()
    # Fields after comm, from 0: state ppid ... utime=11 stime=12 ...
    # num_threads=17 starttime=19 (proc(5) numbers them from 3 and 14).
    return (int(f[1]), comm, (int(f[11]) + int(f[12])) / _TICK,
            int(f[17]), int(f[19]) / _TICK)


def _uptime():
    with open('/proc/uptime') as f:
        return float(f.read().split()[0])


def _cpus_allowed(pid):
    """The CPUs @pid may run on, as /proc says them ("1", "0-1")."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Cpus_allowed_list:'):
                return line.split(':', 1)[1].strip()
    return '?'


class LoadWatch:
    def __init__(self, root_pid, names):
        self.root = root_pid
        self.names = set(n[:15] for n in names)   # comm is 15 characters
        self.procs = {}           # pid -> dict of what was seen

    def _descendants(self):
        kids = {}
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                ppid, comm, cpu, threads, start = _stat(int(d))
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append((int(d), comm, cpu, threads,
                                              start))
        out, todo = [], [self.root]
        while todo:
            for child in kids.get(todo.pop(), []):
                out.append(child)
                todo.append(child[0])
        return out

    def poll(self):
        """Look once; cheap enough to call every POLL_S."""
        if not self.names:
            return
        try:
            now = _uptime()
            found = self._descendants()
        except OSError:
            return
        for pid, comm, cpu, threads, start in found:
            if comm not in self.names:
                continue
            p = self.procs.setdefault(pid, {'name': comm, 'pid': pid,
                                            'start': start})
            p.update(cpu_s=cpu, threads=max(threads, p.get('threads', 0)),
                     alive_s=max(now - start, POLL_S))
            try:
                p['cpus'] = _cpus_allowed(pid)
            except OSError:
                pass

    def summary(self):
        """What the report says: processes seen and their CPU use."""
        procs = []
        for p in self.procs.values():
            pct = 100.0 * p['cpu_s'] / p['alive_s']
            procs.append({'name': p['name'], 'pid': p['pid'],
                          'cpu_s': round(p['cpu_s'], 3),
                          'alive_s': round(p['alive_s'], 3),
                          'cpu_pct': round(pct, 1),
                          'threads': p['threads'],
                          'cpus_allowed': p.get('cpus', '?')})
        return procs
