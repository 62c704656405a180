"""Choose a suite's fine-tuning schedule on validation data only.

``python -m tools.select_schedule configs/suites/synthmotion.py --candidates FILE_OR_JSON``

For every (method, seed) whose weights the suite has already trained and every model protocol of
the suite (semisup, finetune), each candidate schedule fine-tunes on the labelled sets drawn from
train-minus-val and is scored on the validation split carved from the train split
(:meth:`vssl_bench.protocols.semisup.SemiSupervised.select`); the test split is never read.
Writes ``<out>/schedule_selection.json`` and ``.md``: per protocol, per candidate, per method and
per fraction the validation top-1 (mean over seeds), the winner per method, and the schedule
chosen for the suite (best validation top-1 averaged over methods; ties: the first). The files
cover the methods and seeds of this call (a later call replaces them).

Candidates: a JSON list of override dicts (``'[{"lr": 5e-4}, {"lr": 2e-4, "head_lr_mult": 100}]'``),
or a ``.json`` file holding such a list, or a ``.py`` config file defining ``candidates = [...]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, atomic_write_text
from vssl_bench.core.names import WEIGHTS_FILE
from vssl_bench.data import suite_data
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.run_records import run_work_dir
from vssl_bench.harness.suite import ensure_data, model_context
from vssl_bench.harness.suite_config import Suite, load_method_config
from vssl_bench.protocols import build_protocol


def read_candidates(text: str) -> list[dict]:
    """Candidates from inline JSON, a ``.json`` file or a ``.py`` config (``candidates=[...]``)."""
    path = Path(text)
    if path.suffix == '.py' and path.is_file():
        candidates = Config.fromfile(str(path)).get('candidates')
        if candidates is None:
            raise UserError(f'{path} defines no candidates = [dict(...), ...]')
        return [dict(c) for c in candidates]
    candidates = json.loads(path.read_text() if path.suffix == '.json' else text)
    if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
        raise UserError(f'candidates must be a list of dicts, got {candidates!r}')
    return candidates


def select_schedules(suite: Suite, candidates: list[dict], out: Path, work_root: Path,
                     methods: list[str] | None = None, seeds: list[int] | None = None,
                     val_fraction: float = 0.2, only: list[str] | None = None
                     ) -> tuple[dict, list[str]]:
    """Run the validation-only selection over the suite's trained checkpoints; returns the
    summary (also written to ``out``) and the failures ('method seed N: why'). ``only``: the
    names of the model protocols to select for (default: all, e.g. ``['finetune']``)."""
    load_plugins()
    ensure_data(suite)
    suite = dataclasses.replace(suite, data=suite_data.resolve(suite.data))
    cfgs = [load_method_config(entry, suite) for entry in suite.methods]
    if methods:
        unknown = sorted(set(methods) - {c.method_name for c in cfgs})
        if unknown:
            raise UserError(f'--methods {unknown} not in suite {suite.name}')
        cfgs = [c for c in cfgs if c.method_name in methods]
    protocols = [build_protocol(dict(p, candidates=candidates, val_fraction=val_fraction))
                 for p in suite.evaluation['protocols'] if build_protocol(p).needs_model]
    if only:
        unknown = sorted(set(only) - {p.name for p in protocols})
        if unknown:
            raise UserError(f'--protocols {unknown}: the suite\'s model protocols are '
                            f'{[p.name for p in protocols]}')
        protocols = [p for p in protocols if p.name in only]
    # selections[protocol][method] = one selection per seed
    selections: dict[str, dict[str, list[dict]]] = {p.name: {} for p in protocols}
    failures = []
    for cfg in cfgs:
        for seed in seeds or suite.seeds:
            work = run_work_dir(suite, cfg, seed, work_root)
            if not (work / WEIGHTS_FILE).is_file():
                failures.append(f'{cfg.method_name} seed {seed}: no {work / "final_weights.pth"}'
                                '; run the suite first')
                continue
            context = model_context(suite, cfg, work, out)
            for protocol in protocols:
                selection = protocol.select(context, seed=seed)
                selections[protocol.name].setdefault(cfg.method_name, []).append(
                    dict(selection, seed=seed))
    summary = dict(suite=suite.name, val_fraction=val_fraction, candidates=candidates,
                   protocols={name: summarise(per_method, len(candidates))
                              for name, per_method in selections.items() if per_method})
    if summary['protocols']:  # nothing selected: an earlier file is kept
        atomic_write_json(out / 'schedule_selection.json', summary)
        atomic_write_text(out / 'schedule_selection.md', format_markdown(summary))
    return summary, failures


def summarise(per_method: dict[str, list[dict]], num_candidates: int) -> dict[str, Any]:
    """Validation metrics per method and candidate (mean over seeds), the winner per method and
    overall (mean validation top-1 over methods; ties: the first)."""
    methods = {}
    for method, per_seed in per_method.items():
        metrics = [{key: float(np.mean([s['candidates'][i]['metrics'][key] for s in per_seed]))
                    for key in per_seed[0]['candidates'][i]['metrics']}
                   for i in range(num_candidates)]
        top1 = [float(np.mean([s['candidates'][i]['val_top1'] for s in per_seed]))
                for i in range(num_candidates)]
        methods[method] = dict(seeds=[s['seed'] for s in per_seed], val_top1=top1,
                               val_metrics=metrics, chosen=int(np.argmax(top1)),
                               selections=per_seed)
    overall = [float(np.mean([m['val_top1'][i] for m in methods.values()]))
               for i in range(num_candidates)]
    return dict(methods=methods, mean_val_top1=overall, chosen=int(np.argmax(overall)))


def format_markdown(summary: dict) -> str:
    """One table per protocol: a row per candidate and validation metric, a column per method."""
    lines = [f'# Schedule selection: {summary["suite"]}', '',
             f'Validation top-1 (%) on a class-stratified {summary["val_fraction"]:g} split of '
             'the train split (mean over seeds); candidates trained on the rest. The test split '
             'was not read. **Bold**: the chosen candidate.', '']
    for name, result in summary['protocols'].items():
        methods = list(result['methods'])
        lines += [f'## {name}', '', '| candidate | metric | ' + ' | '.join(methods) + ' | mean |',
                  '|---|---|' + '---:|' * (len(methods) + 1)]
        for i, overrides in enumerate(summary['candidates']):
            label = json.dumps(overrides, sort_keys=True)
            label = f'**{label}**' if i == result['chosen'] else label
            keys = [k for k in result['methods'][methods[0]]['val_metrics'][i]
                    if k.startswith('val_top1')]
            for key in keys:
                values = [result['methods'][m]['val_metrics'][i][key] for m in methods]
                lines.append(f'| {label} | {key} | ' + ' | '.join(f'{v:.1f}' for v in values)
                             + f' | {np.mean(values):.1f} |')
        winners = ', '.join(f'{m}: {result["methods"][m]["chosen"]}' for m in methods)
        lines += ['', f'Chosen: candidate {result["chosen"]} '
                  f'{json.dumps(summary["candidates"][result["chosen"]], sort_keys=True)} '
                  f'(per method: {winners}).', '']
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m tools.select_schedule',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('suite', help='suite config (configs/suites/*.py)')
    parser.add_argument('--candidates', required=True,
                        help='JSON list of schedule overrides, or a .json / .py file of them')
    parser.add_argument('--methods', type=lambda t: [x for x in t.split(',') if x])
    parser.add_argument('--seeds', type=lambda t: [int(x) for x in t.split(',') if x])
    parser.add_argument('--val-fraction', type=float, default=0.2)
    parser.add_argument('--protocols', type=lambda t: [x for x in t.split(',') if x],
                        help='model protocols to select for (default: all), e.g. finetune')
    parser.add_argument('--data-root')
    parser.add_argument('--work-dir', default='work_dirs')
    parser.add_argument('--out', help='default: results/<suite name>')
    args = parser.parse_args(argv)
    suite = Suite.load(args.suite, data_root=args.data_root)
    out = Path(args.out) if args.out else Path('results') / suite.name
    summary, failures = select_schedules(suite, read_candidates(args.candidates), out,
                                         Path(args.work_dir), args.methods, args.seeds,
                                         args.val_fraction, args.protocols)
    if summary['protocols']:
        print(format_markdown(summary))
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
