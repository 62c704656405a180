"""Paper leaderboards: a paper suite's reference numbers next to this harness's.

A paper suite (``configs/paper/*.py``) carries, besides the usual suite keys:

- ``paper_reference``: ``{method: {protocol: {metric: value}}}``, percent, the paper's numbers
  (None where docs/reference.md marks them unconfirmed);
- optionally ``paper_reference_code``: the same shape, what the authors' released code
  reproduces (a second column);
- optionally ``paper_unconfirmed``: settings of the suite that are placeholders.

:func:`write_paper_table` writes ``<out_dir>/<suite_name>.md`` and ``.json`` (atomically, no
timestamps): one row per (method, protocol, metric) of the reference with the paper's number,
the released code's, this harness's mean +- std over seeds (from the run records under
``results_dir/runs``; blank when not run yet) and harness - paper (blank when either is blank).
JSON rows: ``{method, protocol, metric, paper, code, harness_mean, harness_std, harness_n,
diff}``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, atomic_write_text
from vssl_bench.report.aggregate import aggregate, load_records


def _flatten(ref: Any, where: str) -> dict[tuple[str, str, str], float | None]:
    if ref is None:
        return {}
    out = {}
    try:
        for method, protocols in ref.items():
            for protocol, metrics in protocols.items():
                for metric, value in metrics.items():
                    out[(str(method), str(protocol), str(metric))] = \
                        None if value is None else float(value)
    except (AttributeError, TypeError, ValueError) as exc:
        raise UserError(f'{where} must be {{method: {{protocol: {{metric: number or None}}}}}}, '
                        f'e.g. dict(CVRL=dict(linear=dict(top1=70.4))): {exc}') from None
    return out


def _fmt(value: float | None, sign: bool = False) -> str:
    if value is None:
        return ''
    return f'{value:+.1f}' if sign else f'{value:.1f}'


def paper_table(suite_path: str | Path, results_dir: str | Path | None = None) -> dict:
    """The paper leaderboard of ``suite_path`` (see module docstring) as a dict."""
    cfg = Config.fromfile(str(suite_path))
    if 'paper_reference' not in cfg:
        raise UserError(f'{suite_path} has no paper_reference: paper suites (configs/paper/) '
                        'declare paper_reference = {method: {protocol: {metric: value}}}')
    paper = _flatten(cfg.paper_reference.to_dict(), f'{suite_path}: paper_reference')
    code = _flatten(cfg.paper_reference_code.to_dict() if 'paper_reference_code' in cfg else None,
                    f'{suite_path}: paper_reference_code')
    results = Path(results_dir) if results_dir else Path('results') / cfg.suite_name
    harness = {}
    if (results / 'runs').is_dir():
        harness = {(r['method'], r['protocol'], r['metric']): r
                   for r in aggregate(load_records(results))}
    rows = []
    for key in list(dict.fromkeys([*paper, *code])):
        found = harness.get(key)
        mean = None if found is None else round(float(found['mean']), 4)
        rows.append(dict(
            method=key[0], protocol=key[1], metric=key[2], paper=paper.get(key),
            code=code.get(key), harness_mean=mean,
            harness_std=None if found is None else round(float(found['std']), 4),
            harness_n=0 if found is None else int(found['n']),
            diff=None if mean is None or paper.get(key) is None
            else round(mean - paper[key], 4)))
    budget = cfg.pretrain.budget
    return dict(suite=cfg.suite_name, suite_config=str(suite_path), results_dir=str(results),
                budget=dict(unit=budget.unit, value=budget.value,
                            matched=budget.unit != 'epochs'),
                unconfirmed=list(cfg.get('paper_unconfirmed', [])), rows=rows)


def format_paper_table(table: dict) -> str:
    """Markdown of :func:`paper_table`."""
    has_code = any(r['code'] is not None for r in table['rows'])
    head = ['method', 'protocol', 'metric', 'paper'] + (['released code'] if has_code else []) \
        + ['this harness', 'harness - paper']
    lines = [f'# Paper comparison: {table["suite"]}', '',
             f'Suite `{table["suite_config"]}`; records from `{table["results_dir"]}/runs`. '
             f'Budget: {table["budget"]["value"]:g} {table["budget"]["unit"]} per method '
             '(the paper\'s unit; unmatched compute). Numbers in percent; "this harness" is '
             'the mean +- std over seeds (n); blank = not run yet (or not given by the paper).',
             '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in table['rows']:
        ours = '' if r['harness_mean'] is None else \
            f'{r["harness_mean"]:.1f} ± {r["harness_std"]:.1f} (n={r["harness_n"]})'
        cells = [r['method'], r['protocol'], r['metric'], _fmt(r['paper'])] \
            + ([_fmt(r['code'])] if has_code else []) + [ours, _fmt(r['diff'], sign=True)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    if table['unconfirmed']:
        lines += ['', 'Settings of this suite not given by the reference (placeholders: confirm '
                  'them before a real run):', ''] + [f'- {u}' for u in table['unconfirmed']]
    lines += ['', 'To fill the harness column: put the data set where the suite\'s `data.root` '
              f'says, run `vssl-bench run {table["suite_config"]}` on GPUs, then '
              f'`vssl-bench paper {table["suite_config"]}` (see configs/paper/README.md).', '']
    return '\n'.join(lines)


def write_paper_table(suite_path: str | Path, results_dir: str | Path | None = None,
                      out_dir: str | Path = 'results/paper') -> Path:
    """Write ``<out_dir>/<suite>.md`` and ``.json``; returns the markdown path."""
    table = paper_table(suite_path, results_dir)
    md = Path(out_dir) / f'{table["suite"]}.md'
    atomic_write_json(md.with_suffix('.json'), table)
    atomic_write_text(md, format_paper_table(table))
    return md
