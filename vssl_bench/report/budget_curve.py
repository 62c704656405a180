"""Budget sweeps: accuracy against training compute, one line per method, one panel per metric.

``vssl-bench run SUITE --budget-scale 0.25,0.5,1`` runs the suite at each fraction of its budget
(the full budget writes to the suite's results folder, a fraction f to
``<results>/budget_scale/x<f>/``) and then :func:`write_budget_curve` draws
``<results>/budget_curve.png`` and writes the same numbers as ``budget_curve.md`` and
``budget_curve.json``.

Untrained baselines (RandomInit) spend no compute, so they are not points on the x-axis: each
panel draws them as a horizontal band (their 95 % confidence interval, or mean ± std where a
leaderboard has no interval), the level a method has to leave to have learnt anything.
:func:`take_off` reads off where each method leaves it: the smallest budget from which every point
is significantly above RandomInit, as the leaderboard of each budget marks it (so RandomInit is
run at every scale: it costs an evaluation, no training).
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from tabulate import tabulate

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, atomic_write_text, read_json
from vssl_bench.report.leaderboard_stats import is_baseline
from vssl_bench.report.table_helpers import metric_sort_key, protocol_sort_key


def scale_dir(results: Path, scale: float) -> Path:
    """Where the suite's results at ``scale`` x its budget live."""
    return results if scale == 1 else results / 'budget_scale' / f'x{scale:g}'


def headline(metric: str) -> bool:
    """Metrics drawn as panels: top-1 accuracies (any suffix, e.g. ``top1_10pct``) and R@1."""
    return metric.startswith('top1') or metric == 'R@1'


def curve_points(results: Path, scales: list[float]) -> list[dict[str, Any]]:
    """One point per (scale, method, protocol, headline metric) that has results:
    ``{scale, method, protocol, metric, train_tflops, mean, std, n, seeds}``."""
    points = []
    for scale in sorted(scales):
        board_path = scale_dir(results, scale) / 'leaderboard.json'
        if not board_path.is_file():
            raise FileNotFoundError(f'{board_path} not found: the suite has not been run at '
                                    f'{scale:g} x its budget (vssl-bench run SUITE '
                                    f'--budget-scale {scale:g})')
        rows = read_json(board_path)['rows']
        untrained = {(r['protocol'], r['metric']): r['mean'] for r in rows
                     if (r.get('compute') or {}).get('untrained') and is_baseline(r['method'])}
        for row in rows:
            compute = row.get('compute') or {}
            if not headline(row['metric']) or compute.get('untrained'):
                continue
            base = untrained.get((row['protocol'], row['metric']))
            points.append(dict(scale=scale, method=row['method'], protocol=row['protocol'],
                               metric=row['metric'], train_tflops=compute.get('train_tflops'),
                               mean=row['mean'], std=row['std'], n=row['n'],
                               seeds=row.get('seeds'),
                               delta_vs_random_init=(None if base is None
                                                     else round(row['mean'] - base, 4)),
                               sig_vs_random_init=row.get('sig_vs_random_init'),
                               **_interval(row)))
    return points


def take_off(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where each method leaves the untrained level, per (method, protocol, headline metric):
    the smallest budget scale from which every point is significantly above RandomInit (the
    leaderboard of that scale marks it so and its mean is higher), with its TFLOPs; None where
    the largest scale is not (``plateau_until``: the largest scale that is not). ``untested``:
    some point of the line has no test against RandomInit (fewer than 3 seeds, see
    :data:`vssl_bench.report.leaderboard_stats.MIN_TEST_SEEDS`): no take-off is claimed."""
    lines: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for p in points:
        lines.setdefault((p['method'], p['protocol'], p['metric']), []).append(p)
    out = []
    for (method, protocol, metric), line in lines.items():
        line.sort(key=lambda p: p['scale'])
        above = [bool(p['sig_vs_random_init']) and (p['delta_vs_random_init'] or 0.0) > 0
                 for p in line]
        untested = any(p['sig_vs_random_init'] is None for p in line)
        first = len(line) if untested else next(
            (i for i in range(len(line)) if all(above[i:])), len(line))
        reached = first < len(line)
        out.append(dict(method=method, protocol=protocol, metric=metric, untested=untested,
                        min_seeds=min(p['n'] for p in line),
                        scale=line[first]['scale'] if reached else None,
                        train_tflops=line[first]['train_tflops'] if reached else None,
                        plateau_until=line[first - 1]['scale'] if first > 0 else None,
                        scales=[p['scale'] for p in line]))
    return out


#: The budget rule (:func:`budget_rule`): the upper bound's method, column and level, and the
#: factor between the budget where it learns and the suite's budget. The factor is measured, on
#: the one data set with self-supervised budget curves so far: on SynthMotion Supervised reaches
#: 60 % linear top-1 from 3.7 TFLOPs (results/synthmotion_learnability), while the
#: self-supervised methods' linear top-1 first rises clear of RandomInit's band at 15 or 30
#: TFLOPs (results/synthmotion_budget, one seed per budget): 4-8x later, so 8x.
UPPER_BOUND, RULE_COLUMN, RULE_LEVEL, RULE_FACTOR = 'Supervised', ('linear', 'top1'), 60.0, 8.0


def budget_rule(points: list[dict[str, Any]], method: str = UPPER_BOUND,
                column: tuple[str, str] = RULE_COLUMN, level: float = RULE_LEVEL,
                factor: float = RULE_FACTOR) -> dict[str, Any] | None:
    """Where the upper bound learns, and the budget that follows from it.

    A data set's budget is set where its upper bound (Supervised, trained with labels on the
    pretraining pool by the same budgeted loop) learns, not where another data set's does: the
    smallest budget scale from which every point of ``method`` on ``column`` has a mean of at
    least ``level`` percent is where it learns (``learns_at``, with its TFLOPs), and
    ``factor`` times that is the recommended budget (self-supervised objectives learn from a
    weaker signal than labels; :data:`RULE_FACTOR`). ``learns_at`` None: it does not learn by the
    largest scale tried; run larger scales. None without points of ``method`` on ``column``."""
    line = sorted((p for p in points if p['method'] == method
                   and (p['protocol'], p['metric']) == column), key=lambda p: p['scale'])
    if not line:
        return None
    above = [p['mean'] >= level for p in line]
    first = next((i for i in range(len(line)) if all(above[i:])), None)
    out = dict(method=method, protocol=column[0], metric=column[1], level=level, factor=factor,
               scales=[p['scale'] for p in line], means=[round(p['mean'], 4) for p in line],
               learns_at=None, learns_at_tflops=None, recommended_scale=None,
               recommended_tflops=None)
    if first is not None:
        point = line[first]
        out.update(learns_at=point['scale'], learns_at_tflops=point['train_tflops'],
                   recommended_scale=factor * point['scale'],
                   recommended_tflops=None if point['train_tflops'] is None
                   else factor * point['train_tflops'])
    return out


def budget_rule_text(rule: dict[str, Any] | None) -> str:
    """One paragraph of :func:`budget_rule` for the markdown."""
    if rule is None:
        return (f'Budget rule: no {UPPER_BOUND} points on {RULE_COLUMN[0]} {RULE_COLUMN[1]}; run '
                f'the curve with {UPPER_BOUND} to set the budget from it.')
    what = f'{rule["method"]} reaches {rule["level"]:g} % {rule["protocol"]} {rule["metric"]}'
    curve = ', '.join(f'{s:g}x {m:.1f}' for s, m in zip(rule['scales'], rule['means']))
    if rule['learns_at'] is None:
        return (f'Budget rule: {what} at none of the budgets tried ({curve}): the suite\'s '
                f'budget is below where its upper bound learns; run larger scales '
                f'(`--budget-scale ... {2 * max(rule["scales"]):g}`).')
    tflops = ('' if rule['learns_at_tflops'] is None
              else f' ({rule["learns_at_tflops"]:.1f} TFLOPs)')
    return (f'Budget rule: {what} from {rule["learns_at"]:g}x{tflops} of the suite\'s budget '
            f'({curve}); the rule sets the budget at {rule["factor"]:g}x that, '
            f'{rule["recommended_scale"]:g}x the suite\'s budget'
            + ('' if rule['recommended_tflops'] is None
               else f' = {rule["recommended_tflops"]:.1f} TFLOPs') + '.')


def take_off_table(rows: list[dict[str, Any]]) -> str:
    """Markdown of :func:`take_off`: one row per method, one column per panel."""
    panels = _panels(rows)
    cells = {(r['method'], r['protocol'], r['metric']): (
        f'{r["scale"]:g}x ({r["train_tflops"]:.1f} TFLOPs)' if r['scale'] is not None
        else 'untested (one seed)' if r.get('untested') and r.get('min_seeds', 1) == 1
        else f'untested ({r["min_seeds"]} seeds)' if r.get('untested')
        else f'not by {max(r["scales"]):g}x') for r in rows}
    methods = list(dict.fromkeys(r['method'] for r in rows))
    table = [[m] + [cells.get((m, p, k), '—') for p, k in panels] for m in methods]
    return tabulate(table, headers=['method'] + [f'{p} {k}' for p, k in panels],
                    tablefmt='github', disable_numparse=True)


def _interval(row: dict[str, Any]) -> dict[str, float]:
    """The row's 95 % interval when the leaderboard has one, else mean ± std."""
    if row.get('ci_low') is not None and row.get('ci_high') is not None:
        return dict(low=row['ci_low'], high=row['ci_high'], interval='95% CI')
    return dict(low=row['mean'] - row['std'], high=row['mean'] + row['std'], interval='± std')


def baseline_bands(results: Path, scales: list[float]) -> list[dict[str, Any]]:
    """The untrained rows (e.g. RandomInit) per (protocol, headline metric), read from the
    largest scale that has them (they do not depend on the budget):
    ``{method, protocol, metric, mean, low, high, interval, n}``."""
    for scale in sorted(scales, reverse=True):
        board_path = scale_dir(results, scale) / 'leaderboard.json'
        if not board_path.is_file():
            continue
        bands = [dict(method=row['method'], protocol=row['protocol'], metric=row['metric'],
                      mean=row['mean'], n=row['n'], **_interval(row))
                 for row in read_json(board_path)['rows']
                 if headline(row['metric']) and (row.get('compute') or {}).get('untrained')]
        if bands:
            return bands
    return []


def _panels(points: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted(dict.fromkeys((p['protocol'], p['metric']) for p in points),
                  key=lambda pm: (protocol_sort_key(pm[0]), metric_sort_key(pm[1])))


def curve_table(points: list[dict[str, Any]]) -> str:
    """Markdown: one row per (method, scale), one column per panel, cells mean ± std over seeds
    ('(seed 1)' where a point has a single seed, named where the leaderboard says which), †
    where the leaderboard of that budget does not tell the point from RandomInit."""
    panels = _panels(points)
    rows: dict[tuple[str, float], dict] = {}
    for p in points:
        row = rows.setdefault((p['method'], p['scale']), {'tflops': p['train_tflops']})
        row[p['protocol'], p['metric']] = (
            (f'{p["mean"]:.1f} ± {p["std"]:.1f}' if p['n'] > 1
             else f'{p["mean"]:.1f} ({single_seed(p)})')
            + (' †' if p.get('sig_vs_random_init') is False else ''))
    methods = list(dict.fromkeys(p['method'] for p in points))
    table = [[method, f'{scale:g}', f'{row["tflops"]:.2f}' if row['tflops'] is not None else '—']
             + [row.get(panel, '—') for panel in panels]
             for method in methods for (m, scale), row in sorted(rows.items(),
                                                                 key=lambda kv: kv[0][1])
             if m == method]
    headers = ['method', 'budget scale', 'train TFLOPs'] + [f'{p} {m}' for p, m in panels]
    return tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)


def single_seed(point: dict[str, Any]) -> str:
    """'seed 1' for a point made from seed 1 alone; '1 seed' where the point does not say."""
    seeds = point.get('seeds') or []
    return f'seed {seeds[0]}' if len(seeds) == 1 else '1 seed'


def seed_list(point: dict[str, Any]) -> str:
    """The point's seeds as '0,1,2' (its count where it does not name them)."""
    seeds = point.get('seeds')
    return ','.join(str(s) for s in seeds) if seeds else str(point['n'])


def legend_label(method: str, points: list[dict[str, Any]]) -> str:
    """The method's name in the curve's legend, with its seeds where all of its points come from
    the same ones: 'TCLR (seed 0)', 'CVRL (seeds 0,1,2)'; the name alone otherwise."""
    own = [p for p in points if p['method'] == method]
    seeds = {seed_list(p) for p in own}
    if len(seeds) != 1 or not own[0].get('seeds'):
        return method
    named = own[0]['seeds']
    return f'{method} (seed {named[0]})' if len(named) == 1 else f'{method} (seeds {seeds.pop()})'


def compute_ticks(points: list[dict[str, Any]]) -> list[tuple[float, str]]:
    """x-axis ticks of the curve: one per budget scale, at the median TFLOPs the methods
    consumed there, labelled with 3 significant digits (a log axis over a short range would
    otherwise label crowded minor ticks)."""
    ticks = []
    for scale in sorted({p['scale'] for p in points}):
        value = statistics.median(p['train_tflops'] for p in points if p['scale'] == scale)
        ticks.append((value, f'{value:.3g}'))
    return ticks


def bands_table(bands: list[dict[str, Any]]) -> str:
    """Markdown: one row per untrained method, its mean [low, high] per panel."""
    panels = _panels(bands)
    methods = list(dict.fromkeys(b['method'] for b in bands))
    cells = {(b['method'], b['protocol'], b['metric']):
             f'{b["mean"]:.1f} [{b["low"]:.1f}, {b["high"]:.1f}]' for b in bands}
    table = [[m] + [cells.get((m, p, k), '—') for p, k in panels] for m in methods]
    return tabulate(table, headers=['untrained'] + [f'{p} {k}' for p, k in panels],
                    tablefmt='github', disable_numparse=True)


def write_budget_curve(results: str | Path, scales: list[float], suite: str) -> Path:
    """Draw ``budget_curve.png`` (accuracy in percent against training TFLOPs, error bars =
    95 % confidence intervals where the leaderboards have them, else std over seeds; untrained
    baselines as bands) and write the tables (.md) and points (.json) next to it; returns the
    png path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    results = Path(results)
    points = curve_points(results, scales)
    if not points:
        raise UserError(f'no trained method with a top-1 or R@1 result under {results}')
    bands = baseline_bands(results, scales)
    panels = _panels(points)
    ticks = compute_ticks(points)
    methods = list(dict.fromkeys(p['method'] for p in points))
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    # room under the panels for the legend (5 entries a row: methods, then the band)
    legend_rows = -(-(len(methods) + bool(bands)) // 5)
    legend_h = 0.3 * legend_rows + 0.2
    height = 3.4 * rows + legend_h
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, height), squeeze=False)
    colours = plt.get_cmap('tab10')
    for ax, (protocol, metric) in zip(axes.flat, panels):
        for i, method in enumerate(methods):
            line = sorted((p for p in points if p['method'] == method
                           and (p['protocol'], p['metric']) == (protocol, metric)),
                          key=lambda p: p['scale'])
            if not line:
                continue
            ax.errorbar([p['train_tflops'] for p in line], [p['mean'] for p in line],
                        yerr=[[p['mean'] - p['low'] for p in line],
                              [p['high'] - p['mean'] for p in line]],
                        marker='o', capsize=3, label=legend_label(method, points),
                        color=colours(i % 10))
        for band in (b for b in bands if (b['protocol'], b['metric']) == (protocol, metric)):
            ax.axhspan(band['low'], band['high'], color='0.6', alpha=0.25, lw=0,
                       label=f'{band["method"]} (untrained, {band["interval"]})')
            ax.axhline(band['mean'], color='0.4', ls='--', lw=1)
        ax.set_title(f'{protocol} {metric}')
        ax.set_xscale('log')  # budget scales are ratios
        ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel('pretraining compute (TFLOPs, log scale)')
        ax.set_ylabel(f'{metric} (%)')
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc='lower center', ncol=min(len(labels), 5), frameon=False)
    intervals = sorted({p['interval'] for p in points})
    fig.suptitle(f'{suite}: accuracy against matched training compute '
                 f'(mean, bars {" / ".join(intervals)})')
    fig.tight_layout(rect=(0, legend_h / height, 1, 1 - 0.3 / height))
    png = results / 'budget_curve.png'
    tmp = png.with_name('budget_curve.tmp.png')
    fig.savefig(tmp, dpi=110, metadata={'Software': None})
    plt.close(fig)
    tmp.replace(png)
    take_offs = take_off(points)
    rule = budget_rule(points)
    atomic_write_json(results / 'budget_curve.json', {'suite': suite, 'scales': sorted(scales),
                                                      'points': points, 'bands': bands,
                                                      'take_off': take_offs,
                                                      'budget_rule': rule})
    bands_md = (f'\n\nUntrained baselines (no compute; mean [low, high]: the 95 % '
                f'confidence interval, or ± std without one; a band on every panel):\n\n{bands_table(bands)}' if bands else '')
    atomic_write_text(results / 'budget_curve.md',
                      f'# Budget curve: {suite}\n\nAccuracy (mean ± std over seeds, percent; '
                      f'†: not distinguishable from RandomInit at that budget) at fractions of '
                      f'the suite\'s budget; train TFLOPs = pretraining compute consumed (mean '
                      f'over seeds).\n\n{curve_table(points)}{bands_md}\n\n'
                      f'Take-off: the smallest budget from which every point is significantly above '
                      f'RandomInit (95 % interval of the difference, as the leaderboard of each '
                      f'budget marks it):\n\n{take_off_table(take_offs)}\n\n'
                      f'{budget_rule_text(rule)}\n')
    return png
