"""More leaderboard formats: CSV (one row per cell) and LaTeX (booktabs), with provenance.

Both take the leaderboard dict of :func:`vssl_bench.report.leaderboard.write_leaderboard`
(``{"suite", "rows", "provenance", ...}``, rows ``{method, protocol, metric, mean, std, n, seeds,
values, ci_low, ci_high, ci_method, sig_vs_random_init, sig_vs_best, p_vs_random_init,
p_vs_best, p_adj_vs_random_init, p_adj_vs_best}``, metrics in percent; see
:mod:`vssl_bench.report.leaderboard_stats`) and are deterministic: the same dict gives the same
bytes.

* ``leaderboard.csv``: header ``method,protocol,metric,mean,std,n,seeds,values,ci_low,ci_high,
  ci_method,sig_vs_random_init,sig_vs_best,p_vs_random_init,p_vs_best,p_adj_vs_random_init,
  p_adj_vs_best`` then any further row
  keys (sorted), one line per (method, protocol, metric); floats written in full (shortest
  round-trip repr), booleans and missing values (None) as ``true``/``false``/``null``,
  ``seeds``/``values`` and other lists joined by ``;``; then the provenance as ``# key: value``
  comment lines at the end (skip lines starting with ``#`` when parsing, e.g.
  ``csv.DictReader(line for line in f if not line.startswith('#'))``).
* ``leaderboard.tex``: a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), one row per
  method, one column per (protocol, metric), cells ``$mean \\pm h$`` with one decimal (h: half
  the width of the 95 % interval; none without one), superscript ``t`` for a t-interval and
  ``\\dagger`` / ``\\ddagger`` when not distinguishable from RandomInit / the best, the best
  mean per column (at the shown precision; ties all bold; only when two or more methods have a
  value) as ``$\\mathbf{...}$``, LaTeX specials in names escaped, and the legend and the
  provenance as a ``%`` comment block after the table.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from vssl_bench.core.io import atomic_write_text
from vssl_bench.report.table_helpers import (half_width, legend_lines, metric_sort_key,
                                             protocol_sort_key, provenance_lines)

CSV_COLUMNS = ('method', 'protocol', 'metric', 'mean', 'std', 'n', 'seeds', 'values', 'ci_low',
               'ci_high', 'ci_method', 'sig_vs_random_init', 'sig_vs_best', 'p_vs_random_init',
               'p_vs_best', 'p_adj_vs_random_init', 'p_adj_vs_best')
_LATEX_SPECIALS = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#',
                   '_': r'\_', '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}',
                   '^': r'\textasciicircum{}'}
_LATEX_RE = re.compile('|'.join(re.escape(c) for c in _LATEX_SPECIALS))


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters (``\\ & % $ # _ { } ~ ^``) escaped."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIALS[m.group()], str(text))


def _csv_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ';'.join(_csv_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def format_csv(leaderboard: dict[str, Any]) -> str:
    """CSV text of the leaderboard's rows plus a ``#`` provenance footer (see module doc)."""
    rows = leaderboard.get('rows', [])
    extra = sorted({k for row in rows for k in row} - set(CSV_COLUMNS))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow([*CSV_COLUMNS, *extra])
    for row in rows:
        writer.writerow([_csv_value(row.get(k, '')) for k in (*CSV_COLUMNS, *extra)])
    out.write(''.join(f'# {line}\n' for line in
                      ['Mean and sample std (ddof=1; 0.0 for one seed) over seeds, in percent; '
                       'ci_low/ci_high: 95 % interval of the mean (ci_method seeds+videos, videos or '
                       't); p_vs_*: p-value of the difference with RandomInit / the best mean of '
                       'the metric, p_adj_vs_*: corrected for multiple comparisons over the '
                       'table; sig_vs_*: p_adj < 0.05 (null: not tested)',
                       *provenance_lines(leaderboard)]))
    return out.getvalue()


def format_latex(leaderboard: dict[str, Any], lower_is_better: Collection[str] = ()) -> str:
    """booktabs LaTeX table of the leaderboard (see module doc).

    Args:
        leaderboard: The leaderboard dict.
        lower_is_better: Metric names whose best value is the smallest (default: none; every
            metric of the current protocols is an accuracy or recall in percent).
    """
    rows = leaderboard.get('rows', [])
    methods = list(dict.fromkeys(r['method'] for r in rows))
    columns = sorted(dict.fromkeys((r['protocol'], r['metric']) for r in rows),
                     key=lambda pm: (protocol_sort_key(pm[0]), metric_sort_key(pm[1])))
    cells = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    best = {}
    for p, m in columns:
        shown = [round(cells[meth, p, m]['mean'], 1) for meth in methods if (meth, p, m) in cells]
        if len(shown) > 1:
            best[p, m] = min(shown) if m in lower_is_better else max(shown)
    lines = [f'% Leaderboard: {latex_escape(leaderboard.get("suite", ""))}. Mean over seeds '
             '$\\pm$ half-width of its 95 % confidence interval, in percent; best per column in '
             'bold; marks below the table.',
             '% Requires \\usepackage{booktabs}.',
             '\\begin{tabular}{llr' + 'r' * len(columns) + '}', '\\toprule',
             ' & '.join(['Method', 'Seeds', 'TFLOPs'] + [latex_escape(f'{p} {m}') for p, m in columns])
             + ' \\\\', '\\midrule']
    for method in methods:
        ns = sorted({r['n'] for r in rows if r['method'] == method})
        out = [latex_escape(method), str(ns[0]) if len(ns) == 1 else f'{ns[0]}--{ns[-1]}']
        compute = next((r.get('compute') for r in rows if r['method'] == method), None) or {}
        tflops = compute.get('train_tflops')
        out.append(f'{tflops:.2f}' if isinstance(tflops, (int, float)) else '--')
        for p, m in columns:
            row = cells.get((method, p, m))
            if row is None:
                out.append('--')
                continue
            body = _latex_body(row)
            bold = (p, m) in best and round(row['mean'], 1) == best[p, m]
            out.append(f'$\\mathbf{{{body}}}$' if bold else f'${body}$')
        lines.append(' & '.join(out) + ' \\\\')
    lines += ['\\bottomrule', '\\end{tabular}',
              *(f'% {latex_escape(line)}' for line in legend_lines()), '% Provenance:',
              *(f'% {latex_escape(line)}' for line in provenance_lines(leaderboard))]
    return '\n'.join(lines) + '\n'


def _latex_body(row: dict[str, Any]) -> str:
    """Math-mode cell: ``35.7 \\pm 2.5^{t,\\dagger}`` (interval, then its marks)."""
    half = half_width(row)
    body = f'{row["mean"]:.1f}' + ('' if half is None else f' \\pm {half:.1f}')
    marks = (['t'] if row.get('ci_method') == 't' else []) + \
        (['\\dagger'] if row.get('sig_vs_random_init') is False else []) + \
        (['\\ddagger'] if row.get('sig_vs_best') is False else [])
    return body + (f'^{{{",".join(marks)}}}' if marks else '')


def write_formats(results_dir: str | Path, leaderboard: dict[str, Any]) -> None:
    """Write ``leaderboard.csv`` and ``leaderboard.tex`` into ``results_dir`` atomically."""
    atomic_write_text(Path(results_dir, 'leaderboard.csv'), format_csv(leaderboard))
    atomic_write_text(Path(results_dir, 'leaderboard.tex'), format_latex(leaderboard))
