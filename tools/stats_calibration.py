"""How often the leaderboard's significance marks are wrong: simulations with known answers, and
splits of real runs where there is no difference to find.

    python tools/stats_calibration.py --out results/statistics [--trials 2000]

Writes ``calibration.md`` and ``calibration.json`` under ``--out``:

1. **Two identical methods** (the null): n seeds each, 360 shared test videos with their own
   difficulty, a per-seed shift of the method's accuracy (run-to-run variance, seed SD given in
   accuracy points) and per-(seed, video) noise. Share of comparisons marked significant at
   5 % by the leaderboard's test (:func:`vssl_bench.report.stats.seed_video_difference`) and, for
   comparison, by the hierarchical percentile bootstrap the leaderboard used before.
2. **Equal accuracy, different videos**: the two methods have the same expected accuracy but
   find different videos hard (a method x video interaction), so on one fixed test set they
   differ by chance; the test must hold its level over new test sets, too.
3. **A whole table**: 7 methods against a baseline on 5 columns, 3 of them truly better by a
   given margin on every column, 4 identical to it; the share of false marks among all marks
   (false discovery rate) and the chance of any false mark (family-wise error) without
   correction, with Benjamini-Hochberg (the leaderboard's) and with Holm.
4. **Real runs**: for every method of the standard suite, its 6 runs (seeds 0-2 in float32 and
   in bfloat16: a change of precision behaves like a new seed) split into two groups of 3 in
   every one of the 10 ways; share of splits marked different on the headline columns.

Maintenance tool: not part of the installed package.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vssl_bench.core.io import atomic_write_json, atomic_write_text  # noqa: E402
from vssl_bench.report.aggregate import collect, load_records  # noqa: E402
from vssl_bench.report.leaderboard import HEADLINE  # noqa: E402
from vssl_bench.report.stats import adjust_pvalues, seed_video_difference  # noqa: E402

VIDEOS = 360
ALPHA = 0.05


def simulate_runs(rng: np.random.Generator, seeds: int, seed_sd: float, difficulty: np.ndarray,
                  offset: float = 0.0) -> np.ndarray:
    """(seeds, videos) 0/1 outcomes: logit = video difficulty + offset + seed shift + noise.
    ``seed_sd`` is in accuracy points at 50 % (the logit shift is seed_sd / 25)."""
    shift = rng.normal(0.0, seed_sd / 25.0, size=(seeds, 1))
    logits = difficulty[None] + offset + shift + rng.normal(0.0, 0.5, size=(seeds, VIDEOS))
    return (rng.random((seeds, VIDEOS)) < 1.0 / (1.0 + np.exp(-logits))).astype(np.float64)


def old_bootstrap_p(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                    replicates: int = 1000) -> float:
    """The former test: hierarchical percentile bootstrap (seeds of each method drawn
    independently, the same video draws for both), p = 2 min(P(d <= 0), P(d >= 0))."""
    counts = np.stack([np.bincount(row, minlength=VIDEOS)
                       for row in rng.integers(0, VIDEOS, size=(replicates, VIDEOS))])

    def means(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        seed_w = np.stack([np.bincount(r, minlength=n) for r in rng.integers(0, n, (replicates, n))])
        per_seed = x @ counts.T / VIDEOS  # (n, B)
        return np.einsum('bs,sb->b', seed_w / n, per_seed)
    d = means(a) - means(b)
    return min(1.0, 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))


def false_positive_rates(trials: int, seed: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(seed)
    for seeds, seed_sd, interaction in itertools.product((2, 3, 5), (2.0, 4.0, 5.6, 8.0),
                                                         (0.0, 0.5)):
        if interaction and seeds != 3:
            continue
        new = old = 0
        spread = []
        old_trials = trials // 4 if interaction == 0.0 else 0
        for trial in range(trials):
            difficulty = rng.normal(0.0, 1.5, size=VIDEOS)
            other = difficulty + rng.normal(0.0, interaction, size=VIDEOS) if interaction \
                else difficulty
            a = simulate_runs(rng, seeds, seed_sd, difficulty)
            b = simulate_runs(rng, seeds, seed_sd, other)
            if interaction:  # equal expected accuracy over videos: centre the interaction
                b = simulate_runs(rng, seeds, seed_sd, other - (other - difficulty).mean())
            spread.append(100.0 * a.mean(axis=1).std(ddof=1))
            new += seed_video_difference(a, b).p < ALPHA
            if trial < old_trials:
                old += old_bootstrap_p(a, b, rng) < ALPHA
        rows.append(dict(seeds=seeds, seed_sd_points=seed_sd, interaction=interaction,
                         measured_seed_sd=round(float(np.mean(spread)), 2), trials=trials,
                         false_positive_rate=round(new / trials, 4),
                         old_bootstrap_trials=old_trials,
                         old_bootstrap_rate=round(old / old_trials, 4) if old_trials else None))
    return rows


def table_error_rates(trials: int, seed: int, effect: float = 10.0, seed_sd: float = 5.6
                      ) -> list[dict]:
    rng = np.random.default_rng(seed)
    columns, true_methods, null_methods = 5, 3, 4
    out = {name: dict(false=0, marks=0, fdp=0.0, any_false=0, true_found=0)
           for name in ('none', 'bh', 'holm')}
    for _ in range(trials):
        tests, is_null = [], []
        for _column in range(columns):
            difficulty = rng.normal(0.0, 1.5, size=VIDEOS)
            base = simulate_runs(rng, 3, seed_sd, difficulty)
            for m in range(true_methods + null_methods):
                offset = effect / 25.0 if m < true_methods else 0.0
                tests.append(seed_video_difference(
                    simulate_runs(rng, 3, seed_sd, difficulty, offset), base).p)
                is_null.append(m >= true_methods)
        is_null = np.array(is_null)
        for name, stats in out.items():
            marked = adjust_pvalues(tests, name) < ALPHA
            false = int((marked & is_null).sum())
            stats['false'] += false
            stats['marks'] += int(marked.sum())
            stats['fdp'] += false / max(1, int(marked.sum()))
            stats['any_false'] += false > 0
            stats['true_found'] += int((marked & ~is_null).sum())
    true_total = trials * columns * true_methods
    return [dict(correction=name, trials=trials, effect_points=effect, seed_sd_points=seed_sd,
                 false_discovery_rate=round(s['fdp'] / trials, 4),
                 family_wise_error=round(s['any_false'] / trials, 4),
                 power=round(s['true_found'] / true_total, 4)) for name, s in out.items()]


def real_splits(results: list[Path]) -> list[dict]:
    """Per headline column: splits of each method's 6 runs (3 + 3 seeds of two results folders)
    into two groups of 3, and how many the test marks at 5 % (uncorrected)."""
    per_dir = [collect(load_records(r))[1] for r in results]
    out = []
    for title, protocol, metric in HEADLINE:
        tested = marked = 0
        for key in per_dir[0]:
            if key[1:] != (protocol, metric) or key not in per_dir[1]:
                continue
            runs = np.concatenate([per_dir[0][key], per_dir[1][key]])
            if runs.shape[0] != 6 or np.all(runs == runs[0]):
                continue  # all runs identical (e.g. 100 %): nothing to split
            for group in itertools.combinations(range(1, 6), 2):  # run 0 fixed in group A
                a = [0, *group]
                b = [i for i in range(6) if i not in a]
                tested += 1
                marked += seed_video_difference(runs[a], runs[b]).p < ALPHA
        out.append(dict(column=title, splits=tested, marked=marked,
                        rate=round(marked / tested, 4) if tested else None))
    return out


def markdown(report: dict) -> str:
    lines = ['# Calibration of the significance marks', '',
             'Generated by `python tools/stats_calibration.py --out results/statistics '
             f'--trials {report["trials"]}` (fixed RNG seed {report["seed"]}); 5 % level.', '',
             '## 1-2. Two methods with no real difference', '',
             'False-positive rate of one comparison (nominal 5 %). `interaction` > 0: equal '
             'expected accuracy but different hard videos (case 2). `old bootstrap`: the '
             'hierarchical percentile bootstrap used before, on a quarter of the trials.', '',
             '| seeds | seed SD (points) | interaction | new test | old bootstrap |',
             '|---|---|---|---|---|']
    for r in report['null']:
        old = '-' if r['old_bootstrap_rate'] is None else f'{100 * r["old_bootstrap_rate"]:.1f} %'
        lines.append(f'| {r["seeds"]} | {r["measured_seed_sd"]:.1f} | {r["interaction"]:g} | '
                     f'{100 * r["false_positive_rate"]:.1f} % | {old} |')
    t = report['table'][0]
    lines += ['', '## 3. A whole table', '',
              f'7 methods against a baseline on 5 columns, 3 seeds each, seed SD '
              f'{t["seed_sd_points"]:g} points; 3 methods truly {t["effect_points"]:g} points '
              f'better, 4 identical ({t["trials"]} tables).', '',
              '| correction | false discovery rate | any false mark in the table | power |',
              '|---|---|---|---|']
    for r in report['table']:
        lines.append(f'| {r["correction"]} | {100 * r["false_discovery_rate"]:.1f} % | '
                     f'{100 * r["family_wise_error"]:.1f} % | {100 * r["power"]:.1f} % |')
    lines += ['', '## 4. Real runs with no difference to find', '',
              f'Each method\'s 6 runs in `{report["real_sources"][0]}` and '
              f'`{report["real_sources"][1]}` split into 3 + 3 in all 10 ways (uncorrected test).',
              '', '| column | splits | marked different | rate |', '|---|---|---|---|']
    for r in report['real']:
        rate = '-' if r['rate'] is None else f'{100 * r["rate"]:.1f} %'
        lines.append(f'| {r["column"]} | {r["splits"]} | {r["marked"]} | {rate} |')
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='results/statistics', help='output folder')
    parser.add_argument('--trials', type=int, default=2000, help='simulated comparisons per case')
    parser.add_argument('--seed', type=int, default=0, help='RNG seed')
    parser.add_argument('--real', nargs=2, default=['results/synthmotion_standard',
                                                    'results/synthmotion_standard_bf16'],
                        help='two results folders of the same suite and seeds')
    args = parser.parse_args(argv)
    report = dict(trials=args.trials, seed=args.seed, real_sources=args.real,
                  null=false_positive_rates(args.trials, args.seed),
                  table=table_error_rates(max(1, args.trials // 4), args.seed + 1),
                  real=real_splits([ROOT / r for r in args.real]))
    out = Path(args.out)
    atomic_write_json(out / 'calibration.json', report)
    atomic_write_text(out / 'calibration.md', markdown(report))
    print(markdown(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
