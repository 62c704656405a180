"""`vssl-bench check` catches a real regression (slow; run by `make ci`).

Opt-in: set ``VSSL_CI_RESULTS`` to the results directory of a finished run of
``configs/suites/ci_regression.py`` with seed 0 (``make ci`` does); without it the test is
skipped, so ``make test`` stays fast. That suite trains Supervised alone with enough compute to
leave chance by a wide margin; its reference is ``results/reference/ci_regression.json`` (3 seeds).

1. The unmodified run passes the check against the reference.
2. A deliberately broken Supervised, :class:`ShuffledLabelSupervised` (labels permuted within
   every batch, so its gradient carries no label information; every other setting unchanged),
   is pretrained under the same budget and evaluated with the same protocols; the check of its
   results must fail, with a REGRESSION of Supervised's linear top-1.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from vssl_bench.cli import main
from vssl_bench.core.registry import MODELS
from vssl_bench.harness.suite import Suite, run_suite
from vssl_bench.methods.supervised import Supervised
from vssl_bench.report.check import compare, load_reference, load_results

ROOT = Path(__file__).resolve().parents[1]
CI_SUITE = ROOT / 'configs/suites/ci_regression.py'
REFERENCE = ROOT / 'results/reference/ci_regression.json'
RESULTS = os.environ.get('VSSL_CI_RESULTS')

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
    entry = suite.methods[0]
    entry.update(name='Supervised',
                 overrides=dict(entry['overrides'], model=dict(type='ShuffledLabelSupervised')))
    out = tmp_path / 'results'
    _, failures = run_suite(suite, out=out, work_root=tmp_path / 'work', seeds=[0])
    assert failures == []

    _, rows, _ = load_results(out)
    verdicts = {(v['method'], v['protocol'], v['metric']): v['verdict']
                for v in compare(load_reference(REFERENCE), rows)}
    assert verdicts[('Supervised', 'linear', 'top1')] == 'REGRESSION', verdicts
    assert 'missing' not in verdicts.values()
    capsys.readouterr()
    assert main(['check', str(out), '--reference', str(REFERENCE)]) == 1
    report = capsys.readouterr()
    print(report.out)
    assert 'FAILED' in report.err and '0 missing' in report.out
