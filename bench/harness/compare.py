# SPDX-License-Identifier: MIT
"""bench/run compare OLD.json NEW.json: the change of every figure between
two runs, judged against the noise both runs saw.

For each figure present in both runs, the change of coil's median and of
the ratio to the baseline, as % in the "better" direction (+ is better).
A change counts only beyond its noise: the sum of the two runs' spreads
(half their min..max ranges, in %) and at least --threshold (5 %).
  REGRESSION   coil worse beyond noise, and its ratio to the baseline too
               (or no ratio to tell): coil itself got slower
  machine?     coil worse beyond noise but the ratio within noise: the
               baseline slowed alike, so the machine probably did
  better       coil better beyond noise
  ~            within noise
Exit status 1 when any figure is a REGRESSION, 0 otherwise, 2 on bad input.
"""
import argparse
import json
import sys

from report import num
from results import SCHEMA, spread_pct


def load(path):
    try:
        with open(path) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit('bench/run compare: %s: %s' % (path, e))
    if run.get('schema') != SCHEMA:
        sys.exit('bench/run compare: %s: schema %r, not %r' % (
            path, run.get('schema'), SCHEMA))
    return run


def change_pct(old, new, better):
    """% change of @new over @old, positive when better."""
    if not old or new is None:
        return None
    c = 100.0 * (new - old) / abs(old)
    return c if better == 'higher' else -c


def noise(a, b, floor):
    sa, sb = spread_pct(a), spread_pct(b)
    return max(floor, (sa or 0) + (sb or 0))


def verdict(dc, nc, dr, nr):
    if dc is None:
        return '?'
    if dc < -nc:
        if dr is None or dr < -nr:
            return 'REGRESSION'
        return 'machine?'
    if dc > nc:
        return 'better'
    return '~'


def figures(run):
    return {(s['name'], f['name']): f for s in run['scenarios']
            for f in s['figures']}


def header_diff(old, new):
    lines = []
    for key, label in (('cpu_model', 'CPU'), ('cpus', 'CPUs'),
                       ('kernel', 'kernel'), ('compiler', 'compiler'),
                       ('liburing', 'liburing'), ('buildtype', 'buildtype')):
        a, b = old['machine'].get(key), new['machine'].get(key)
        if a != b:
            lines.append('  %s: %s -> %s' % (label, a, b))
    a = old['machine']['ring']['value']
    b = new['machine']['ring']['value']
    if a != b:
        lines.append('  ring flags: %s -> %s' % (a, b))
    if old['mode'] != new['mode']:
        lines.append('  mode: %s -> %s (counts differ: compare like with '
                     'like)' % (old['mode'], new['mode']))
    return lines


def missing(a, b):
    """What of @a is not in @b: whole scenarios by name, else figures."""
    out, scen_a = [], {}
    for sc, fig in a:
        scen_a.setdefault(sc, []).append(fig)
    scen_b = set(sc for sc, _ in b)
    for sc, figs in scen_a.items():
        if sc not in scen_b:
            out.append('%s (%d figures)' % (sc, len(figs)))
        else:
            out += ['%s/%s' % (sc, f) for f in figs if (sc, f) not in b]
    return out


ROW = '%-14s %-27s %-11s %9s %9s %8s %7s %8s %7s  %s'


def main(argv):
    p = argparse.ArgumentParser(
        prog='bench/run compare', description=__doc__.split('\n\n')[0],
        epilog=__doc__.split('\n\n', 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('old')
    p.add_argument('new')
    p.add_argument('--threshold', type=float, default=5.0, metavar='PCT',
                   help='the smallest change that counts (default 5)')
    a = p.parse_args(argv)
    old, new = load(a.old), load(a.new)
    print('old: %s, %s mode, commit %s' % (old['date'], old['mode'],
                                          old['machine']['git']['commit']))
    print('new: %s, %s mode, commit %s' % (new['date'], new['mode'],
                                          new['machine']['git']['commit']))
    diff = header_diff(old, new)
    if diff:
        print('the runs differ in:')
        print('\n'.join(diff))
    print()
    print(ROW % ('scenario', 'figure', 'unit', 'coil old', 'coil new',
                 'change', 'noise', 'ratio', 'noise', 'verdict'))
    fo, fn = figures(old), figures(new)
    regressions = 0
    for key, f in fn.items():
        o = fo.get(key)
        if not o or not o['coil'] or not f['coil']:
            continue
        better = f['better']
        dc = change_pct(o['coil']['median'], f['coil']['median'], better)
        nc = noise(o['coil'], f['coil'], a.threshold)
        dr = nr = None
        if o['ratio'] and f['ratio']:
            dr = change_pct(o['ratio']['median'], f['ratio']['median'],
                            'higher')
            nr = noise(o['ratio'], f['ratio'], a.threshold)
        v = verdict(dc, nc, dr, nr)
        regressions += v == 'REGRESSION'
        print(ROW % (key[0], key[1], f['unit'][:11],
                     num(o['coil']['median']), num(f['coil']['median']),
                     '%+.1f%%' % dc, '%.0f%%' % nc,
                     '-' if dr is None else '%+.1f%%' % dr,
                     '-' if nr is None else '%.0f%%' % nr, v))
    for label, a_, b_ in (('old', fo, fn), ('new', fn, fo)):
        only = missing(a_, b_)
        if only:
            print('only in %s: %s' % (label, ', '.join(only)))
    print('\nchange: + is better (whatever the unit); noise: the two runs\' '
          'spreads added, at least %.0f%%' % a.threshold)
    print('%d regression%s beyond noise' % (regressions,
                                            '' if regressions == 1 else 's'))
    return 1 if regressions else 0
