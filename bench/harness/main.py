# SPDX-License-Identifier: MIT
"""bench/run's body: build, run every selected scenario (several runs,
scenarios interleaved run by run), count system calls in a separate short
pass, then print the report and write the JSON and the chart.
See bench/README.md; `bench/run --help` for the options."""
import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import compare
import machine
import report
import results
from scenarios import BY_NAME, SCENARIOS
from watch import POLL_S, SATURATED_PCT, LoadWatch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
COUNT_EST_S = 5          # a count pass's length when history has none


def say(*a):
    print('bench/run:', *a, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='bench/run', formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Run coil\'s benchmark scenarios, each measuring coil '
                    'and its baselines in one program (reps alternating '
                    'A B A B), several runs interleaved; report medians, '
                    'spread and ratios as a table, a JSON file and a chart.',
        epilog='Other modes:\n'
               '  bench/run compare OLD.json NEW.json [--threshold PCT]\n'
               '      the change between two runs; regressions beyond the '
               'noise\n      are flagged (exit status 1)\n'
               '  bench/run show RUN.json [CHART.svg|CHART.png]\n'
               '      a saved run\'s report again (and its chart)\n\n'
               'Scenarios: ' + ', '.join(s.name for s in SCENARIOS) +
               '\nbench/README.md explains the report and the JSON schema.')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--quick', dest='mode', action='store_const',
                   const='quick', help='small counts, one run: about two '
                   'minutes (the default)')
    g.add_argument('--full', dest='mode', action='store_const', const='full',
                   help='the counts the targets are stated for, three runs: '
                   'about twenty minutes')
    p.add_argument('--build', metavar='DIR',
                   default=os.path.join(ROOT, 'build-bench'),
                   help='meson build directory (default: build-bench in '
                   'the source tree; set up as a release build if missing)')
    p.add_argument('--only', metavar='LIST', default='',
                   help='comma-separated scenarios to run')
    p.add_argument('--runs', type=int, default=0, metavar='N',
                   help='runs of each scenario (default: 1 quick, 3 full)')
    p.add_argument('--no-count', action='store_true',
                   help='skip the system call count pass')
    p.add_argument('--out', metavar='DIR',
                   help='where the JSON, chart and logs go (default: '
                   'DIR/bench-results under the build directory)')
    p.add_argument('--verbose', '-v', action='store_true',
                   help='show each program\'s own output as it runs')
    p.add_argument('--list', action='store_true',
                   help='list the scenarios and exit')
    a = p.parse_args(argv)
    a.mode = a.mode or 'quick'
    a.build = os.path.abspath(a.build)
    if a.runs < 0 or a.runs > 20:
        p.error('--runs: 1 to 20')
    a.runs = a.runs or (1 if a.mode == 'quick' else 3)
    return a


def select(only):
    if not only:
        return list(SCENARIOS)
    out = []
    for name in only.split(','):
        name = name.strip()
        if name not in BY_NAME:
            say("no scenario '%s' (have: %s)" % (
                name, ', '.join(s.name for s in SCENARIOS)))
            sys.exit(2)
        if BY_NAME[name] not in out:
            out.append(BY_NAME[name])
    return out


def build(build_dir, selected):
    """Set the build directory up if needed, then bring it up to date.
    When the whole build fails, build each selected program alone: one
    broken program must not stop the others. Returns {scenario: error}
    for the programs that did not build."""
    if not os.path.exists(os.path.join(build_dir, 'build.ninja')):
        say('no build in %s: setting one up (release)' % build_dir)
        r = subprocess.run(['meson', 'setup', build_dir, ROOT,
                            '--buildtype=release', '-Dbench=true',
                            '-Dtests=false'])
        if r.returncode:
            sys.exit('bench/run: meson setup failed')
    r = subprocess.run(['meson', 'compile', '-C', build_dir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode == 0:
        return {}
    failed = {}
    for sc in selected:
        t = subprocess.run(['ninja', '-C', build_dir, 'bench/' + sc.name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if t.returncode and 'unknown target' not in t.stdout:
            failed[sc.name] = t.stdout
    if len(failed) == len(selected):
        sys.stderr.write(r.stdout[-4000:])
        sys.exit('bench/run: the build failed')
    for name, out in failed.items():
        say('%s does not build; skipping it:' % name)
        sys.stderr.write(''.join('    ' + l for l in
                                 out.splitlines(True)[-12:]))
    say('warning: the full build failed; running what did build')
    return failed


# ---------------------------------------------------------------- progress

class Progress:
    """One line per step; on a terminal also a line that ticks while a
    step runs: which scenario, which run, the time left."""

    def __init__(self, steps):
        self.steps = steps
        self.t0 = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.cur = None
        self.cur_t0 = 0
        self.last_beat = 0

    def left(self, elapsed=0.0):
        i = self.steps.index(self.cur) if self.cur else 0
        rest = sum(s['est'] for s in self.steps[i + 1:])
        return rest + max(self.cur['est'] - elapsed, 0) if self.cur else rest

    def label(self, step):
        i = self.steps.index(step) + 1
        return '[%d/%d %s] %s' % (i, len(self.steps),
                                  report.duration(time.monotonic() -
                                                  self.t0), step['what'])

    def start(self, step):
        self.cur = step
        self.cur_t0 = self.last_beat = time.monotonic()
        print('%s: about %s left' % (self.label(step),
                                     report.duration(self.left())),
              flush=True)

    def tick(self):
        now = time.monotonic()
        el = now - self.cur_t0
        if self.tty:
            sys.stdout.write('\r\033[K  ... %s: %s so far, about %s left' % (
                self.cur['what'], report.duration(el),
                report.duration(self.left(el))))
            sys.stdout.flush()
        elif now - self.last_beat >= 30:
            self.last_beat = now
            print('  ... %s: %s so far, about %s left' % (
                self.cur['what'], report.duration(el),
                report.duration(self.left(el))), flush=True)

    def clear(self):
        if self.tty:
            sys.stdout.write('\r\033[K')
            sys.stdout.flush()

    def done(self, step, msg):
        self.clear()
        print('%s: %s' % (self.label(step), msg), flush=True)


# --------------------------------------------------------------- one step

def kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_step(argv, env, log_path, limit, progress, verbose,
             watch_names=()):
    """Run @argv with output to @log_path; returns a dict of what
    happened: exit status, wall and CPU time, peak RSS, load generators."""
    with open(log_path, 'w') as log:
        log.write('$ %s\n' % ' '.join(argv))
        log.flush()
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
                             start_new_session=True)
    watch = LoadWatch(p.pid, watch_names) if watch_names else None
    shown = 0
    timed_out = False
    status = ru = None
    try:
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if watch:
                watch.poll()
            if verbose:
                shown = show_new(log_path, shown, progress)
            progress.tick()
            if not timed_out and time.monotonic() - t0 > limit:
                timed_out = True
                kill_group(p.pid, signal.SIGTERM)
                limit += 10         # then SIGKILL, 10 s later
            elif timed_out and time.monotonic() - t0 > limit:
                kill_group(p.pid, signal.SIGKILL)
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        kill_group(p.pid, signal.SIGKILL)
        os.waitpid(p.pid, 0)
        progress.clear()
        raise
    p.returncode = os.waitstatus_to_exitcode(status)
    kill_group(p.pid, signal.SIGKILL)   # nothing of it outlives the step
    wall = time.monotonic() - t0
    if verbose:
        show_new(log_path, shown, progress)
    return {'exit': p.returncode, 'timed_out': timed_out,
            'wall_s': round(wall, 3), 'cpu_user_s': round(ru.ru_utime, 3),
            'cpu_sys_s': round(ru.ru_stime, 3), 'peak_rss_kb': ru.ru_maxrss,
            'log': log_path,
            'load_generators': watch.summary() if watch else []}


def show_new(path, pos, progress):
    """Print the whole lines @path gained since byte @pos; the new @pos."""
    with open(path, 'rb') as f:
        f.seek(pos)
        data = f.read()
    end = data.rfind(b'\n') + 1
    if end:
        progress.clear()
        for line in data[:end].decode(errors='replace').splitlines():
            print('    ' + line)
    return pos + end


def count_argv(argv, tools, out_path):
    """@argv wrapped to count the whole program's system calls."""
    if tools['syscalls'] == 'perf':
        ev = 'raw_syscalls:sys_enter'
        if tools['instructions']:
            ev += ',instructions'
        return ['perf', 'stat', '-x,', '-o', out_path, '-e', ev, '--'] + argv
    if tools['syscalls'] == 'strace':
        return ['strace', '-f', '-c', '-q', '-o', out_path, '--'] + argv
    return argv


def read_count(tools, out_path):
    """(syscalls, instructions) of the whole program, None when unknown."""
    try:
        with open(out_path) as f:
            text = f.read()
    except OSError:
        return None, None
    if tools['syscalls'] == 'perf':
        c = machine.perf_event_counts(text)
        return c.get('raw_syscalls:sys_enter'), c.get('instructions')
    for line in text.splitlines():
        w = line.split()
        if w and w[-1] == 'total' and len(w) >= 5:
            try:
                return int(w[3]), None
            except ValueError:
                pass
    return None, None


# -------------------------------------------------------------- the plan

def history(path, mode):
    """{scenario: (run seconds, count seconds)} from the last JSON."""
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError):
        return {}
    if old.get('schema') != results.SCHEMA or old.get('mode') != mode:
        return {}
    h = {}
    for s in old.get('scenarios', []):
        runs = [r['wall_s'] for r in s.get('runs', []) if r.get('wall_s')]
        c = (s.get('count') or {}).get('wall_s')
        h[s['name']] = (max(runs) if runs else None, c)
    return h


def plan(selected, args, hist):
    steps = []
    for run in range(1, args.runs + 1):
        for sc in selected:
            if sc.max_runs and run > sc.max_runs:
                continue
            n = min(args.runs, sc.max_runs or args.runs)
            est = (hist.get(sc.name) or (None, None))[0] or \
                sc.estimate(args.mode)
            steps.append({'sc': sc, 'kind': 'run', 'run': run, 'est': est,
                          'what': '%s, run %d of %d' % (sc.name, run, n)})
    if not args.no_count:
        for sc in selected:
            if sc.count is None:
                continue
            est = (hist.get(sc.name) or (None, None))[1] or COUNT_EST_S
            steps.append({'sc': sc, 'kind': 'count', 'run': 0, 'est': est,
                          'what': '%s, count pass' % sc.name})
    return steps


def pinning(selected, cpus):
    """(note for the header, server CPU, load generator CPU): the CPUs a
    server scenario is asked to use (it pins itself: bench/echo does)."""
    if not any(s.server for s in selected):
        return '', None, None
    if len(cpus) >= 2:
        return ('server scenarios pin the server to CPU %d and the load '
                'generator to CPU %d (COIL_BENCH_SERVER_CPU, '
                'COIL_BENCH_LOAD_CPU; the load generator\'s CPUs are '
                'checked below)' % (cpus[0], cpus[1]), cpus[0], cpus[1])
    return ('only one CPU: server and load generator share it, so the '
            'server figures are lower bounds and the load generator\'s '
            'CPU use is part of them', None, None)


# --------------------------------------------------------------- the run

def execute(steps, args, tools, logs, progress, pin, broken):
    env = dict(os.environ, COIL_BENCH_BASELINES=os.path.join(ROOT, 'bench',
                                                             'baselines'))
    _, server_cpu, load_cpu = pin
    if load_cpu is not None:
        env['COIL_BENCH_SERVER_CPU'] = str(server_cpu)
        env['COIL_BENCH_LOAD_CPU'] = str(load_cpu)
    done = {}
    for step in steps:
        sc = step['sc']
        mode = 'count' if step['kind'] == 'count' else args.mode
        argv = sc.command(ROOT, args.build, mode)
        key = (sc.name, step['kind'])
        if argv is None or sc.name in broken:
            why = 'does not build' if sc.name in broken else \
                sc.note or 'program not built'
            done.setdefault(key, []).append({'skipped': True, 'why': why})
            progress.start(step)
            progress.done(step, 'skipped: ' + why)
            step['est'] = 0
            continue
        progress.start(step)
        tag = 'count' if step['kind'] == 'count' else 'run%d' % step['run']
        log = os.path.join(logs, '%s.%s.log' % (sc.name, tag))
        e = dict(env)
        cnt_path = None
        if step['kind'] == 'count':
            cnt_path = os.path.join(logs, '%s.count.txt' % sc.name)
            argv = count_argv(argv, tools, cnt_path)
            if tools['syscalls'] == 'perf':
                e['COIL_BENCH_COUNT'] = '1'
        r = run_step(argv, e, log, sc.limit(mode), progress, args.verbose,
                     sc.load_generators if sc.server else ())
        with open(log, errors='replace') as f:
            r['results'] = results.parse_output(f.read())
        if cnt_path:
            r['syscalls'], r['instructions'] = read_count(tools, cnt_path)
            r['method'] = tools['syscalls']
        r['argv'] = argv
        done.setdefault(key, []).append(r)
        step['est'] = r['wall_s']
        progress.done(step, step_summary(r))
        if r['exit'] != 0:
            with open(log, errors='replace') as f:
                for line in f.read().splitlines()[-15:]:
                    print('    | ' + line)
    return done


def step_summary(r):
    if r['timed_out']:
        return 'TIMED OUT after %.0f s (log: %s)' % (r['wall_s'], r['log'])
    if r['exit'] != 0:
        return 'FAILED, exit status %d after %.1f s (log: %s)' % (
            r['exit'], r['wall_s'], r['log'])
    return 'done in %.1f s, %d figures' % (r['wall_s'], len(r['results']))


def scenario_record(sc, done):
    runs = done.get((sc.name, 'run'), [])
    counts = done.get((sc.name, 'count'), [])
    rec = {'name': sc.name, 'describe': sc.describe,
           'baselines': sc.baselines, 'status': 'ok', 'reason': '',
           'runs': [], 'resources': None, 'count': None,
           'load_generator': None, 'figures': []}
    if not runs or runs[0].get('skipped'):
        why = runs[0]['why'] if runs else 'not run'
        rec['status'] = 'failed' if why == 'does not build' else 'skipped'
        rec['reason'] = why
        return rec
    rec['command'] = ' '.join(runs[0]['argv'])
    for r in runs:
        rec['runs'].append({k: r[k] for k in (
            'exit', 'timed_out', 'wall_s', 'cpu_user_s', 'cpu_sys_s',
            'peak_rss_kb', 'log')})
    bad = [r for r in runs if r['exit'] != 0]
    if bad:
        rec['status'] = 'timeout' if bad[0]['timed_out'] else 'failed'
        rec['reason'] = '%s in %d of %d runs; see %s' % (
            'timed out' if bad[0]['timed_out'] else
            'exit status %d' % bad[0]['exit'], len(bad), len(runs),
            bad[0]['log'])
    good = [r for r in runs if r['exit'] == 0] or runs
    med = lambda k: sorted(r[k] for r in good)[len(good) // 2]
    rec['resources'] = {'wall_s': med('wall_s'),
                        'cpu_user_s': med('cpu_user_s'),
                        'cpu_sys_s': med('cpu_sys_s'),
                        'peak_rss_kb': max(r['peak_rss_kb'] for r in good)}
    count_results = []
    if counts and not counts[0].get('skipped'):
        c = counts[0]
        count_results = c['results'] if c['exit'] == 0 else []
        rec['count'] = {'method': c.get('method'), 'exit': c['exit'],
                        'syscalls': c.get('syscalls'),
                        'instructions': c.get('instructions'),
                        'wall_s': c['wall_s'], 'log': c['log'],
                        'command': ' '.join(c['argv'])}
    # Figures from the runs that succeeded only: a failed run's RESULT
    # lines may be zeros or partial, and would pollute medians and verdicts.
    rec['figures'] = results.figures(
        [r['results'] for r in runs if r['exit'] == 0], count_results)
    rec['load_generator'] = load_generator_report(sc, runs, rec['figures'])
    return rec


def load_generator_report(sc, runs, figs):
    """Which load generator ran and how busy it was; None if no server."""
    if not sc.server:
        return None
    procs = [p for r in runs for p in r['load_generators']]
    own = [v for f in figs for k, v in f['extra'].items()
           if isinstance(v, (int, float)) and 'cpu' in k and
           ('load' in k or 'client' in k)]
    names = sorted(set(p['name'] for p in procs)) or list(sc.load_generators)
    life = max((p['cpu_pct'] for p in procs), default=None)
    busiest = max(own, default=None)
    worst = max([x for x in (life, busiest) if x is not None], default=None)
    cpus = sorted(set(p['cpus_allowed'] for p in procs))
    line = 'load generator: %s (%s), %d process%s seen, on CPU %s' % (
        ', '.join(names), sc.baselines.split('load: ')[-1],
        len(procs), '' if len(procs) == 1 else 'es',
        ' / '.join(cpus) or '?')
    if life is not None:
        line += ', CPU %.0f%% of one CPU over its life' % life
    if busiest is not None:
        line += ', %.0f%% in its busiest window (its own report)' % busiest
    saturated = worst is not None and worst >= SATURATED_PCT
    if saturated:
        line += ' -- WARNING: saturated, the load generator may be the ' \
                'bottleneck, not the server'
    return {'names': names, 'line': line, 'processes': procs,
            'busiest_window_cpu_pct': busiest, 'saturated': saturated}


def show(argv):
    """bench/run show RUN.json [CHART.svg|.png]: the report of a saved run
    again, and its chart drawn anew when a path is given."""
    if len(argv) not in (1, 2):
        say('usage: bench/run show RUN.json [CHART.svg | CHART.png]')
        return 2
    run = compare.load(argv[0])
    report.print_report(run, sys.stdout)
    if len(argv) == 2:
        err = report.chart(run, argv[1])
        print('chart: ' + (argv[1] if not err else 'not drawn: ' + err))
        return 1 if err else 0
    return 0


def main(argv):
    if argv and argv[0] == 'compare':
        return compare.main(argv[1:])
    if argv and argv[0] == 'show':
        return show(argv[1:])
    args = parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print('%-11s %s\n            baselines: %s' % (
                s.name, s.describe, s.baselines))
        return 0
    selected = select(args.only)
    t_start = time.monotonic()
    date = datetime.datetime.now(datetime.timezone.utc)
    broken = build(args.build, selected)
    out_dir = os.path.abspath(args.out or os.path.join(args.build,
                                                       'bench-results'))
    stamp = date.strftime('%Y%m%d-%H%M%S') + '-' + args.mode
    logs = os.path.join(out_dir, stamp)
    os.makedirs(logs, exist_ok=True)
    latest = os.path.join(args.build, 'bench-results.json')

    m = machine.collect(ROOT, args.build)
    if m['buildtype'] != 'release':
        say('warning: %s is a %s build; figures are meant for '
            'buildtype=release' % (args.build, m['buildtype']))
    tools = m['counting']
    pin = pinning(selected, m['cpu_list'])
    steps = plan(selected, args, history(latest, args.mode))
    progress = Progress(steps)
    print('bench/run: %s mode: %s; %d run%s each; build %s' % (
        args.mode, ', '.join(s.name for s in selected), args.runs,
        '' if args.runs == 1 else 's', args.build), flush=True)
    print('  %s, %d CPUs, Linux %s; %s' % (
        m['cpu_model'], m['cpus'], m['kernel'],
        machine.describe_counting(tools)), flush=True)
    if pin[0]:
        print('  ' + pin[0], flush=True)
    try:
        done = execute(steps, args, tools, logs, progress, pin, broken)
    except KeyboardInterrupt:
        say('interrupted')
        return 130
    run = {
        'schema': results.SCHEMA, 'mode': args.mode,
        'date': date.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'command': 'bench/run ' + ' '.join(argv) if argv else 'bench/run',
        'runs': args.runs, 'machine': m,
        'counting_note': machine.describe_counting(tools),
        'pinning': pin[0],
        'scenarios': [scenario_record(sc, done) for sc in selected],
    }
    m['loadavg_end'] = machine.loadavg()
    run['wall_s'] = round(time.monotonic() - t_start, 1)
    json_path = os.path.join(out_dir, stamp + '.json')
    chart_path = os.path.join(out_dir, stamp + '.svg')
    run['files'] = {'json': json_path, 'chart': chart_path, 'logs': logs}
    err = report.chart(run, chart_path)
    if err:
        run['files']['chart'] = None
    with open(json_path, 'w') as f:
        json.dump(run, f, indent=1)
        f.write('\n')
    shutil.copyfile(json_path, latest)

    print()
    report.print_report(run, sys.stdout)
    failed = [s['name'] for s in run['scenarios']
              if s['status'] in ('failed', 'timeout')]
    skipped = [s['name'] for s in run['scenarios'] if s['status'] ==
               'skipped']
    print()
    if skipped:
        print('skipped: ' + ', '.join(
            '%s (%s)' % (s['name'], s['reason']) for s in run['scenarios']
            if s['status'] == 'skipped'))
    if failed:
        print('FAILED: %s (logs in %s)' % (', '.join(failed), logs))
    print('%s run took %s' % (args.mode, report.duration(run['wall_s'])))
    print('JSON:  %s (also %s)' % (json_path, latest))
    print('chart: %s' % (chart_path if not err else 'not drawn: ' + err))
    print('logs:  %s' % logs)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
