"""The linear probe's version 1 against version 2 on the same frozen features.

    python tools/probe_versions.py SUITE [SUITE ...] --out results/linear_probe_v2 \
        [--work-dir work_dirs]

For every (method, seed) of each suite whose weights are in the work dir (nothing is trained),
the features are extracted as the suite extracts them (or read from its feature cache) and
scored by version 1's probe (L2-normalised clips fitted as they are, C grid 0.1-1000, no grid
growth: ``LinearProbe(standardise=False, Cs=(0.1, 1, 10, 100, 1000), extend=0)``), by version
2's (the default ``LinearProbe()``) and by the suite's kNN. Writes ``comparison.md`` and
``comparison.json`` under ``--out``: per row both probes' top-1, the C each chose and whether
it lay at the top of its grid, and kNN top-1; then how often version 1 chose its largest C and
the mean change.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vssl_bench.core.io import atomic_write_json, atomic_write_text
from vssl_bench.core.names import WEIGHTS_FILE
from vssl_bench.engine.pretrain import build_model, load_weights
from vssl_bench.harness.feature_cache import split_features
from vssl_bench.harness.run_records import run_work_dir
from vssl_bench.harness.suite_config import load_method_config
from vssl_bench.harness.validate import load_suite
from vssl_bench.protocols import KNN, LinearProbe

VERSION1 = dict(standardise=False, Cs=(0.1, 1.0, 10.0, 100.0, 1000.0), extend=0)


def compare_suite(path: str, work_root: Path) -> list[dict]:
    """One row per (method, seed) of the suite at ``path`` with weights under ``work_root``."""
    suite = load_suite(path)
    knn_cfg = next((dict(p) for p in suite.evaluation['protocols'] if p['type'] == 'KNN'),
                   dict(type='KNN'))
    knn_cfg.pop('type')
    rows = []
    for entry in suite.methods:
        cfg = load_method_config(entry, suite)
        for seed in suite.seeds:
            weights = run_work_dir(suite, cfg, seed, work_root) / WEIGHTS_FILE
            if not weights.is_file():
                continue
            model = load_weights(build_model(cfg), weights)
            train, test = (split_features(model, cfg.model.to_dict(), suite, split,
                                          work_root / 'feature_cache', True)
                           for split in ('train', 'test'))
            row = dict(suite=suite.name, method=cfg.method_name, seed=seed)
            for tag, probe in (('v1', LinearProbe(**VERSION1)), ('v2', LinearProbe())):
                result = probe.evaluate(train, test, seed=seed)
                grid = sorted(float(c) for c in result.info['cv_top1'])
                row.update({f'{tag}_top1': result.metrics['top1'], f'{tag}_C': result.info['C'],
                            f'{tag}_largest_C': result.info['C'] == grid[-1]})
            row['knn_top1'] = KNN(**knn_cfg).evaluate(train, test).metrics['top1']
            print(f'{row["suite"]} {row["method"]} seed {seed}: linear v1 {row["v1_top1"]:.1f} '
                  f'(C {row["v1_C"]:g}), v2 {row["v2_top1"]:.1f} (C {row["v2_C"]:g}), kNN '
                  f'{row["knn_top1"]:.1f}', flush=True)
            rows.append(row)
    return rows


def markdown(rows: list[dict], command: str) -> str:
    lines = ['# Linear probe v1 against v2, same features', '',
             f'`{command}`', '',
             'Top-1 in percent on the test split; C: the inverse regularisation each probe chose '
             'by grouped cross-validation on the training split; "largest": C was the largest '
             'value of its grid (version 1 cannot grow its grid). kNN: the suite\'s kNN on the '
             'same features.', '',
             '| suite | method | seed | linear v1 | C v1 | linear v2 | C v2 | v2 - v1 | kNN |',
             '|---|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        largest = {v: ' (largest)' if r[f'{v}_largest_C'] else '' for v in ('v1', 'v2')}
        lines.append(f'| {r["suite"]} | {r["method"]} | {r["seed"]} | {r["v1_top1"]:.1f} | '
                     f'{r["v1_C"]:g}{largest["v1"]} | {r["v2_top1"]:.1f} | '
                     f'{r["v2_C"]:g}{largest["v2"]} | {r["v2_top1"] - r["v1_top1"]:+.1f} | '
                     f'{r["knn_top1"]:.1f} |')
    if rows:
        diff = np.array([r['v2_top1'] - r['v1_top1'] for r in rows])
        lines += ['', f'{len(rows)} rows: version 1 chose its largest C in '
                  f'{sum(r["v1_largest_C"] for r in rows)}, version 2 in '
                  f'{sum(r["v2_largest_C"] for r in rows)}; v2 - v1: mean {diff.mean():+.1f}, '
                  f'from {diff.min():+.1f} to {diff.max():+.1f} points; version 2 below kNN in '
                  f'{sum(r["v2_top1"] < r["knn_top1"] for r in rows)} rows, version 1 in '
                  f'{sum(r["v1_top1"] < r["knn_top1"] for r in rows)}.']
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('suites', nargs='+', help='suite configs whose weights exist')
    parser.add_argument('--work-dir', default='work_dirs', help='where the weights are')
    parser.add_argument('--out', required=True, help='folder for comparison.md / .json')
    args = parser.parse_args(argv)
    rows = [row for path in args.suites for row in compare_suite(path, Path(args.work_dir))]
    command = 'python tools/probe_versions.py ' + ' '.join(argv if argv is not None
                                                           else sys.argv[1:])
    out = Path(args.out)
    atomic_write_json(out / 'comparison.json', dict(command=command, rows=rows))
    atomic_write_text(out / 'comparison.md', markdown(rows, command))
    print(markdown(rows, command))
    return 0


if __name__ == '__main__':
    sys.exit(main())
