"""`vssl-bench check` catches a real regression of the CI suite (slow; run by `make ci`).

Opt-in: set ``VSSL_CI_RESULTS`` to the results directory of a finished CI suite run
(``make ci`` does: ``vssl-bench run configs/suites/ci.py --seeds 0 --out $VSSL_CI_RESULTS``);
without it the test is skipped, so ``make test`` stays fast.

1. The unmodified run passes the check against ``results/reference/ci.json``.
2. A deliberately broken Supervised, :class:`ShuffledLabelSupervised` (labels permuted within
   every batch, so its gradient carries no label information; every other setting unchanged),
   is pretrained on the CI suite under the same budget and evaluated with the suite's feature
   protocols (linear, knn, retrieval; fine-tuning is left out to save minutes). Its records
   replace Supervised's next to copies of the other methods' records of the unmodified run,
   and the check of that results directory must fail with regressions of Supervised's cells
   (against the reference cells that were measured, so none is merely ``missing``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from benchmark.check import compare, load_reference, load_results
from benchmark.cli import main
from benchmark.io import atomic_write_json
from benchmark.registry import MODELS
from benchmark.suite import Suite, run_suite
from methods.supervised import Supervised

ROOT = Path(__file__).resolve().parents[1]
CI_SUITE = ROOT / 'configs/suites/ci.py'
REFERENCE = ROOT / 'results/reference/ci.json'
RESULTS = os.environ.get('VSSL_CI_RESULTS')
FEATURE_PROTOCOLS = ('LinearProbe', 'KNN', 'Retrieval')

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not RESULTS, reason='needs VSSL_CI_RESULTS=<results dir of the CI suite> (make ci)')]


@MODELS.register_module(force=True)
class ShuffledLabelSupervised(Supervised):
    """Supervised with a bug: the labels are permuted within each batch before the loss."""

    def loss(self, inputs: torch.Tensor, data_samples: torch.Tensor) -> dict[str, torch.Tensor]:
        labels = data_samples.view(-1)
        shuffled = labels[torch.randperm(labels.numel(), device=labels.device)]
        return super().loss(inputs, shuffled.view_as(data_samples))


def test_unmodified_ci_run_passes():
    assert main(['check', RESULTS, '--reference', str(REFERENCE)]) == 0


def test_broken_supervised_fails_check(tmp_path, capsys):
    suite = Suite.load(CI_SUITE)
    entry = next(m for m in suite.methods if 'supervised_' in Path(m['config']).name)
    entry.update(name='Supervised',
                 overrides=dict(entry['overrides'], model=dict(type='ShuffledLabelSupervised')))
    suite.evaluation['protocols'] = [p for p in suite.evaluation['protocols']
                                     if p['type'] in FEATURE_PROTOCOLS]
    out = tmp_path / 'results'
    for method_dir in Path(RESULTS, 'runs').iterdir():
        if method_dir.name != 'Supervised':
            shutil.copytree(method_dir, out / 'runs' / method_dir.name)
    _, failures = run_suite(suite, out=out, work_root=tmp_path / 'work',
                            methods=['Supervised'], seeds=[0])
    assert failures == []

    _, rows, _ = load_results(out)
    measured = {(r['method'], r['protocol'], r['metric']) for r in rows}
    ref = load_reference(REFERENCE)
    ref['cells'] = [c for c in ref['cells']
                    if (c['method'], c['protocol'], c['metric']) in measured]
    verdicts = {(v['method'], v['protocol'], v['metric']): v['verdict']
                for v in compare(ref, rows)}
    assert verdicts[('Supervised', 'linear', 'top1')] == 'REGRESSION', verdicts
    assert 'missing' not in verdicts.values()
    assert all(v != 'REGRESSION' for k, v in verdicts.items() if k[0] != 'Supervised')
    filtered = tmp_path / 'ci_measured_cells.json'
    atomic_write_json(filtered, ref)
    capsys.readouterr()
    assert main(['check', str(out), '--reference', str(filtered)]) == 1
    report = capsys.readouterr()
    print(report.out)
    assert 'FAILED' in report.err and '0 missing' in report.out
