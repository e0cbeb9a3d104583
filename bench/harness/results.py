# SPDX-License-Identifier: MIT
"""RESULT lines (bench/common.h) in, figures with median and spread out.

A figure is one RESULT name of one scenario. Each run of the program gives
its median, extremes and ratio; bench/run pools the runs: the median of the
runs' medians, the extremes of all their reps, the median of the runs'
ratios. Keys the harness does not know are kept as the figure's "extra".
"""
import re
import statistics

SCHEMA = 'coil-bench/1'

_KV = re.compile(r'(\w+)=("([^"]*)"|\S*)')

# Keys with a meaning here; everything else goes to "extra".
KNOWN = {'name', 'unit', 'coil', 'base', 'ratio', 'target', 'met', 'better',
         'reps', 'base_reps', 'coil_min', 'coil_max', 'base_min',
         'base_max', 'ratio_min', 'ratio_max', 'coil_syscalls_per_op',
         'base_syscalls_per_op', 'coil_insns_per_op', 'base_insns_per_op'}

COUNT_KEYS = ('coil_syscalls_per_op', 'base_syscalls_per_op',
              'coil_insns_per_op', 'base_insns_per_op')


def number(v):
    """@v as an int or float when it is one, else the string."""
    if isinstance(v, (int, float)) or v is None:
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    if f != f or f in (float('inf'), float('-inf')):
        return v
    return int(f) if re.fullmatch(r'-?\d+', v) else f


def parse_line(line):
    """The key=value pairs of one "RESULT ..." line."""
    out = {}
    for m in _KV.finditer(line.split(' ', 1)[1] if ' ' in line else ''):
        out[m.group(1)] = m.group(3) if m.group(3) is not None \
            else m.group(2)
    return out


def parse_output(text):
    """The RESULT lines of a program's output, as dicts."""
    return [parse_line(line) for line in text.splitlines()
            if line.startswith('RESULT ')]


def better_of(r):
    """'higher' or 'lower': from the line, else from the unit (rates and
    counts of things alive are higher-is-better, times and sizes lower)."""
    b = r.get('better')
    if b in ('higher', 'lower'):
        return b
    unit = r.get('unit', '')
    return 'higher' if unit.endswith('/s') or unit in ('tasks', 'x') \
        else 'lower'


def side_of(r, prefix):
    """One side of one run: median, min, max, reps (None when absent)."""
    med = number(r.get(prefix))
    if not isinstance(med, (int, float)):
        return None
    lo = number(r.get(prefix + '_min', med))
    hi = number(r.get(prefix + '_max', med))
    reps = number(r.get('reps') if prefix == 'coil' else
                  r.get('base_reps', r.get('reps')))
    return {'median': float(med), 'min': float(lo), 'max': float(hi),
            'reps': int(reps) if isinstance(reps, (int, float)) else 1}


def pool(sides):
    """Pool the same side over several runs."""
    sides = [s for s in sides if s]
    if not sides:
        return None
    meds = [s['median'] for s in sides]
    return {'median': statistics.median(meds),
            'min': min(s['min'] for s in sides),
            'max': max(s['max'] for s in sides),
            'reps': sum(s['reps'] for s in sides),
            'runs': meds}


def spread_pct(side):
    """Half the min..max range, as % of the median: the noise seen."""
    if not side or not side['median']:
        return None
    return 100.0 * (side['max'] - side['min']) / 2 / abs(side['median'])


def figures(runs, count_results):
    """Aggregate one scenario's runs (lists of RESULT dicts) into figures,
    in the order the program prints them; add the count pass's counts."""
    order, by_name = [], {}
    for results in runs:
        for r in results:
            name = r.get('name')
            if not name:
                continue
            if name not in by_name:
                order.append(name)
                by_name[name] = []
            by_name[name].append(r)
    counts = {r.get('name'): r for r in count_results}
    return [figure(name, by_name[name], counts.get(name, {}))
            for name in order]


def met_of(mets):
    """The runs' verdicts on the target: one word, or "mixed"."""
    return mets[0] if len(set(mets)) == 1 else 'mixed'


def figure(name, lines, count):
    last = lines[-1]
    coil = pool([side_of(r, 'coil') for r in lines])
    base = pool([side_of(r, 'base') for r in lines])
    ratios = [number(r.get('ratio')) for r in lines]
    ratios = [float(x) for x in ratios if isinstance(x, (int, float))]
    ratio = None
    if ratios:
        lo = [number(r.get('ratio_min', r.get('ratio'))) for r in lines]
        hi = [number(r.get('ratio_max', r.get('ratio'))) for r in lines]
        ratio = {'median': statistics.median(ratios),
                 'min': min(float(x) for x in lo),
                 'max': max(float(x) for x in hi), 'runs': ratios}
    if base and base['median'] == 0 and (not ratio or ratio['median'] == 0):
        base, ratio = None, None       # the baseline did not run
    extra = {}
    for r in lines:
        for k, v in r.items():
            if k not in KNOWN:
                extra[k] = number(v)
    per_op = {}
    for k in COUNT_KEYS:
        # From the count pass; a program that counts in windows of its
        # own (bench/echo) prints them in its timed run.
        v = number(count.get(k, last.get(k)))
        per_op[k] = float(v) if isinstance(v, (int, float)) else None
    return {
        'name': name, 'unit': last.get('unit', ''),
        'better': better_of(last), 'coil': coil, 'base': base,
        'ratio': ratio, 'target': last.get('target', ''),
        'met': met_of([r.get('met', 'n/a') for r in lines]),
        'syscalls_per_op': {'coil': per_op['coil_syscalls_per_op'],
                            'base': per_op['base_syscalls_per_op']},
        'instructions_per_op': {'coil': per_op['coil_insns_per_op'],
                                'base': per_op['base_insns_per_op']},
        'extra': extra,
    }
