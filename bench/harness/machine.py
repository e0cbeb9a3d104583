# SPDX-License-Identifier: MIT
"""What the report header says about the machine, the build and the tools:
CPU model, kernel, liburing, compiler, the io_uring ring flags coil runs
with, and whether perf can count system calls and instructions here."""
import json
import os
import platform
import shutil
import subprocess

# io_uring_setup(2) flags, by bit; the ones coil may ask for are named.
RING_FLAGS = [
    (1 << 0, 'IOPOLL'), (1 << 1, 'SQPOLL'), (1 << 2, 'SQ_AFF'),
    (1 << 3, 'CQSIZE'), (1 << 4, 'CLAMP'), (1 << 5, 'ATTACH_WQ'),
    (1 << 6, 'R_DISABLED'), (1 << 7, 'SUBMIT_ALL'),
    (1 << 8, 'COOP_TASKRUN'), (1 << 9, 'TASKRUN_FLAG'),
    (1 << 10, 'SQE128'), (1 << 11, 'CQE32'), (1 << 12, 'SINGLE_ISSUER'),
    (1 << 13, 'DEFER_TASKRUN'), (1 << 14, 'NO_MMAP'),
    (1 << 15, 'REGISTERED_FD_ONLY'), (1 << 16, 'NO_SQARRAY'),
]


def run_text(argv, timeout=30, env=None):
    """stdout+stderr of @argv, or '' when it cannot run."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env)
        return p.stdout
    except (OSError, subprocess.SubprocessError):
        return ''


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, val = line.partition(':')
                if key.strip() in ('model name', 'Processor', 'cpu model'):
                    return val.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def liburing_version():
    v = run_text(['pkg-config', '--modversion', 'liburing']).strip()
    if v and ' ' not in v:
        return v
    v = run_text(['dpkg-query', '-W', '-f=${Version}', 'liburing-dev'])
    return v.strip() or 'unknown'


def build_info(build):
    """Compiler and buildtype from meson's introspection files."""
    info = {'compiler': 'unknown', 'buildtype': 'unknown'}
    intro = os.path.join(build, 'meson-info')
    try:
        with open(os.path.join(intro, 'intro-targets.json')) as f:
            cc = next(src['compiler'] for t in json.load(f)
                      for src in t['target_sources']
                      if src.get('language') == 'c')
        ver = run_text(cc + ['--version']).splitlines()
        info['compiler'] = ver[0].strip() if ver else ' '.join(cc)
    except (OSError, KeyError, ValueError, StopIteration):
        pass
    try:
        with open(os.path.join(intro, 'intro-buildoptions.json')) as f:
            for o in json.load(f):
                if o['name'] in ('buildtype', 'b_sanitize'):
                    info[o['name']] = o['value']
    except (OSError, KeyError, ValueError):
        pass
    return info


def ring_flags(build):
    """The ring coil runs with, from the nop program's INFO line."""
    nop = os.path.join(build, 'bench', 'nop')
    out = run_text([nop, '1000', '1'], timeout=60) if os.path.exists(nop) \
        else ''
    for line in out.splitlines():
        if line.startswith('INFO ring_flags='):
            kv = dict(w.split('=', 1) for w in line.split()[1:] if '=' in w)
            flags = int(kv['ring_flags'], 16)
            return {'value': kv['ring_flags'],
                    'names': [n for bit, n in RING_FLAGS if flags & bit],
                    'sq_entries': int(kv.get('sq_entries', 0)),
                    'cq_entries': int(kv.get('cq_entries', 0))}
    return {'value': 'unknown', 'names': [], 'sq_entries': 0,
            'cq_entries': 0}


def perf_event_counts(text):
    """{event: count or None} from `perf stat -x,` output."""
    counts = {}
    for line in text.splitlines():
        parts = line.split(',')
        if len(parts) < 3 or line.startswith('#'):
            continue
        try:
            counts[parts[2]] = int(float(parts[0]))
        except ValueError:
            counts[parts[2]] = None     # "<not supported>", "<not counted>"
    return counts


def counting_tools():
    """How this machine can count system calls and instructions.

    perf works for an event when `perf stat -e EVENT true` counts it; the
    in-program counters (bench/common.h) use the same kernel interface.
    strace -f -c is the fallback that works everywhere (ptrace).
    """
    tools = {'perf': bool(shutil.which('perf')),
             'strace': bool(shutil.which('strace')),
             'syscalls': None, 'instructions': None,
             'syscalls_event': 'raw_syscalls:sys_enter'}
    if tools['perf']:
        out = run_text(['perf', 'stat', '-x,', '-e',
                        'raw_syscalls:sys_enter,instructions', 'true'])
        c = perf_event_counts(out)
        tools['syscalls'] = 'perf' if c.get('raw_syscalls:sys_enter') \
            else None
        tools['instructions'] = 'perf' if c.get('instructions') else None
        tools['perf_says'] = ' '.join(
            '%s=%s' % (k, 'not supported' if v is None else v)
            for k, v in c.items()) or out.strip()[-200:]
    if not tools['syscalls'] and tools['strace']:
        tools['syscalls'] = 'strace'
    # COIL_BENCH_COUNT_WITH=strace|none forces the fallback (to try it).
    force = os.environ.get('COIL_BENCH_COUNT_WITH')
    if force in ('strace', 'none'):
        tools['syscalls'] = None if force == 'none' else 'strace'
        tools['instructions'] = None
    return tools


def describe_counting(tools):
    """One line for the header."""
    if tools['syscalls'] == 'perf':
        s = 'system calls: perf (raw_syscalls:sys_enter), per side'
    elif tools['syscalls'] == 'strace':
        s = ('system calls: perf cannot count them here; strace -f -c, '
             'whole program only')
    else:
        s = 'system calls: no way to count them (neither perf nor strace)'
    if tools['instructions']:
        s += '; instructions: perf'
    else:
        s += ('; instructions: not counted (perf stat -e instructions: '
              '<not supported>: no hardware counters, e.g. a VM)'
              if tools['perf'] else '; instructions: no perf')
    return s + '; counted in a separate short pass, never while timing'


def git_info(root):
    commit = run_text(['git', '-C', root, 'rev-parse', '--short=12',
                       'HEAD']).strip()
    dirty = run_text(['git', '-C', root, 'status', '--porcelain',
                      '--untracked-files=no']).strip()
    return {'commit': commit if commit and ' ' not in commit else None,
            'dirty': bool(dirty)}


def loadavg():
    try:
        with open('/proc/loadavg') as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return []


def tool_versions():
    """Versions of the interpreters the baselines run on."""
    v = {'python3': run_text(['python3', '--version']).strip() or None}
    if shutil.which('go'):
        v['go'] = run_text(['go', 'version']).strip() or None
    else:
        v['go'] = None
    return v


def collect(root, build):
    cpus = usable_cpus()
    m = {'cpu_model': cpu_model(), 'cpus': len(cpus), 'cpu_list': cpus,
         'kernel': platform.release(), 'arch': platform.machine(),
         'liburing': liburing_version(), 'ring': ring_flags(build),
         'loadavg_start': loadavg(), 'git': git_info(root),
         'tools': tool_versions(), 'counting': counting_tools()}
    m.update(build_info(build))
    return m
