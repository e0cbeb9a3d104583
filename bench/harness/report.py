# SPDX-License-Identifier: MIT
"""The terminal report (header and table) and the chart of one run."""
import os
import shutil
import subprocess

from results import spread_pct


def num(v, width=0):
    """About four significant digits, no exponent; '-' for None."""
    if v is None:
        s = '-'
    else:
        a = abs(v)
        if a >= 1000 or a == 0:
            s = '%.0f' % v
        elif a >= 100:
            s = '%.1f' % v
        elif a >= 10:
            s = '%.2f' % v
        elif a >= 1:
            s = '%.3f' % v
        elif a >= 0.001:
            s = '%.4f' % v
        else:
            s = '%.2g' % v if a >= 1e-9 else '0'
            if 'e' in s:
                s = '%.9f' % v
                s = s.rstrip('0')
    return s.rjust(width) if width else s


def spread(side):
    """The ± column: half the min..max range in %; blank for one rep."""
    v = spread_pct(side)
    if v is None or side['reps'] <= 1 and len(side.get('runs', ())) <= 1:
        return ''
    return '±%.0f%%' % v if v >= 1 else '±%.1f%%' % v


def duration(s):
    s = int(round(s))
    return '%d:%02d' % (s // 60, s % 60)


def header_lines(run):
    m = run['machine']
    c = m['counting']
    ring = m['ring']
    lines = [
        'coil benchmarks, %s mode, %s (%s)' % (
            run['mode'], run['date'], run['command']),
        'machine: %s, %d CPU%s, Linux %s (%s)' % (
            m['cpu_model'], m['cpus'], '' if m['cpus'] == 1 else 's',
            m['kernel'], m['arch']),
        'build:   %s, buildtype %s, liburing %s, commit %s%s' % (
            m['compiler'], m['buildtype'], m['liburing'],
            m['git']['commit'] or '?',
            ' (with uncommitted changes)' if m['git']['dirty'] else ''),
        'ring:    flags %s (%s), SQ %d, CQ %d' % (
            ring['value'], ' '.join(ring['names']) or '?',
            ring['sq_entries'], ring['cq_entries']),
        'counts:  ' + run['counting_note'],
        'runs:    %d per scenario (scenarios interleaved run by run), each '
        'alternating coil and baseline reps inside; load average %s at '
        'start' % (run['runs'], ' '.join('%.2f' % x for x in
                                        m['loadavg_start'])),
    ]
    if run.get('pinning'):
        lines.append('pinning: ' + run['pinning'])
    return lines


def scenario_line(s):
    if s['status'] != 'ok' and not s['figures']:
        return '%s: %s (%s)' % (s['name'], s['status'].upper(),
                                s.get('reason', ''))
    r = s['resources']
    bits = ['%d run%s' % (len(s['runs']), '' if len(s['runs']) == 1
                          else 's'),
            'wall %.1f s' % r['wall_s'],
            'CPU %.1f s (user %.1f + sys %.1f)' % (
                r['cpu_user_s'] + r['cpu_sys_s'], r['cpu_user_s'],
                r['cpu_sys_s']),
            'peak RSS %.1f MiB' % (r['peak_rss_kb'] / 1024)]
    c = s.get('count')
    if c and c.get('syscalls') is not None:
        bits.append('count pass: %d syscalls (%s)' % (c['syscalls'],
                                                       c['method']))
    line = '%s: %s' % (s['name'], ', '.join(bits))
    if s['status'] != 'ok':
        line += '\n  %s: %s' % (s['status'].upper(), s.get('reason', ''))
    return line


COLS = '%-30s %-11s %9s %5s %9s %5s %9s %-16s %10s %10s  %s'


def table_lines(run):
    lines = [COLS % ('figure', 'unit', 'coil', '', 'baseline', '',
                     'x better', '(min..max)', 'sysc/op', 'sysc/op',
                     'target met?'),
             COLS % ('', '', '', '', '', '', '', '', 'coil', 'baseline',
                     '')]
    for s in run['scenarios']:
        lines.append('')
        lines.append(scenario_line(s))
        if s.get('load_generator'):
            lines.append('  ' + s['load_generator']['line'])
        for f in s['figures']:
            lines.append(figure_row(f))
            lat = latency_row(f)
            if lat:
                lines.append(lat)
    return lines


def latency_row(f):
    """Latency percentiles, for figures whose program reports them
    (keys coil_p50_us, coil_p99_us, coil_p999_us and base_...)."""
    sides = []
    for side, label in (('coil', 'coil'), ('base', 'baseline')):
        v = [f['extra'].get('%s_%s_us' % (side, q))
             for q in ('p50', 'p99', 'p999')]
        if all(isinstance(x, (int, float)) for x in v):
            sides.append('%s %s' % (label, '/'.join(num(x) for x in v)))
    if not sides:
        return None
    return '      latency p50/p99/p99.9 us: ' + ', '.join(sides)


def figure_row(f):
    coil, base, ratio = f['coil'], f['base'], f['ratio']
    rng = ''
    if ratio and ratio['min'] != ratio['max']:
        rng = '(%s..%s)' % (num(ratio['min']), num(ratio['max']))
    met = f['met'] if f['target'] in ('', 'info', 'none') else \
        '%s %s' % (f['target'], f['met'])
    return COLS % (
        '  ' + f['name'], f['unit'][:11],
        num(coil and coil['median']), spread(coil),
        num(base and base['median']), spread(base),
        (num(ratio['median']) + 'x') if ratio else '-', rng,
        num(f['syscalls_per_op']['coil']), num(f['syscalls_per_op']['base']),
        '' if met == 'n/a' else met)


def print_report(run, out):
    for line in header_lines(run):
        print(line, file=out)
    print('', file=out)
    print('x better: times better than the baseline (above 1: coil '
          'ahead), median of paired reps; ±: half the min..max range of '
          'the reps, in %; sysc/op: system calls per operation (count '
          'pass)', file=out)
    for line in table_lines(run):
        print(line.rstrip(), file=out)


# ------------------------------------------------------------------ chart

def chart(run, path):
    """Draw coil's advantage over each baseline, per figure, as bars on a
    log scale (1 = parity) with the min..max range of the ratio; SVG or PNG
    by @path's extension. Returns an error message or None."""
    gnuplot = shutil.which('gnuplot')
    if not gnuplot:
        return 'gnuplot not found (scripts/deps.sh --all installs ' \
               'gnuplot-nox)'
    rows = []
    for si, s in enumerate(run['scenarios']):
        for f in s['figures']:
            r = f['ratio']
            if r and r['median'] > 0 and r['min'] > 0:
                rows.append((si, '%s: %s' % (s['name'], f['name']),
                             r['median'], r['min'], r['max']))
    if not rows:
        return 'no ratios to draw'
    data = path + '.dat'
    with open(data, 'w') as f:
        for i, (si, label, med, lo, hi) in enumerate(rows):
            f.write('%d "%s" %g %g %g %d\n' % (i, label.replace('"', ''),
                                               med, lo, hi, si + 1))
    width = max(900, 300 + 38 * len(rows))
    term = ('pngcairo size %d,760 font ",10"' if path.endswith('.png')
            else 'svg size %d,760 dynamic font "sans,10"') % width
    m = run['machine']
    title = 'coil vs baseline: times better (median, min..max of reps); ' \
            '%s mode, %s; %s, %d CPUs, Linux %s' % (
                run['mode'], run['date'][:10], m['cpu_model'], m['cpus'],
                m['kernel'])
    lo = min(r[3] for r in rows)
    hi = max(r[4] for r in rows)
    script = '\n'.join([
        'set terminal %s' % term,
        'set output "%s"' % path,
        'set title "%s" noenhanced' % title.replace('"', ''),
        'set logscale y',
        'set yrange [%g:%g]' % (min(lo, 1) / 2, max(hi, 1) * 2),
        'set ylabel "times better than the baseline (log scale)"',
        'set grid ytics',
        'set xtics rotate by -40 left noenhanced',
        'set bmargin 14',
        'set rmargin 22',
        'set style fill solid 0.6 border -1',
        'set boxwidth 0.7',
        'set key off',
        'set arrow from graph 0, first 1 to graph 1, first 1 nohead '
        'dt 2 lw 2 lc rgb "black"',
        'set label "parity" at graph 1.01, first 1',
        'plot "%s" using 1:3:6:xtic(2) with boxes lc variable, '
        '"" using 1:3:4:5 with yerrorbars lc rgb "black" pt 0' % data,
    ])
    try:
        p = subprocess.run([gnuplot], input=script, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return 'gnuplot failed: %s' % e
    finally:
        try:
            os.unlink(data)
        except OSError:
            pass
    if p.returncode != 0 or not os.path.exists(path):
        return 'gnuplot failed: %s' % p.stdout.strip()[-300:]
    return None
