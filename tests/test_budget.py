"""Matched compute budgets: FLOP counting, derived step counts, schedules, refusals."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from vssl_bench.core.errors import ConfigError
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.budget import (Budget, BudgetError, count_flops, derive_steps,
                                      schedule_factor, step_flops)
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite import ensure_data
from vssl_bench.harness.suite_config import Suite, load_method_config

load_plugins()
ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
SUPERVISED = str(ROOT / 'configs/methods/supervised_r3d18w16_8x2_synthmotion.py')


def test_conv3d_flops_equal_the_analytic_count():
    conv = torch.nn.Conv3d(3, 8, kernel_size=(3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2),
                           bias=False)
    x = torch.randn(2, 3, 4, 16, 16)
    # Output 2 x 8 x 4 x 8 x 8; each output element is a dot product of 3 * 3 * 5 * 5 = 225
    # multiply-adds = 450 FLOPs.
    assert count_flops(lambda: conv(x)) == 2 * 8 * 4 * 8 * 8 * 450

    # Backward of a conv needing both input and weight gradients costs twice its forward.
    x.requires_grad_(True)
    assert count_flops(lambda: conv(x).sum().backward()) == 3 * 2 * 8 * 4 * 8 * 8 * 450


def test_linear_step_flops_count_forward_and_backward():
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(10, 4, bias=False)
            self.data_preprocessor = lambda batch, training: batch

        def forward(self, inputs, data_samples=None, mode='loss'):
            return {'loss_sq': self.fc(inputs).pow(2).mean()}

        def parse_losses(self, losses):
            return sum(losses.values()), {}

    model = Tiny()
    before = model.fc.weight.detach().clone()
    # Forward 2*B*10*4, backward only the weight gradient (inputs need none): the same again.
    assert step_flops(model, {'inputs': torch.randn(6, 10)}) == 2 * (2 * 6 * 10 * 4)
    assert model.fc.weight.grad is None and torch.equal(model.fc.weight, before)


def test_derive_steps_per_unit():
    flops = Budget('train_flops', 1000.0)
    assert derive_steps(flops, flops_per_step=100, world_size=1, batch_size=4, num_videos=40) == 10
    # Two ranks spend twice the FLOPs per step.
    assert derive_steps(flops, flops_per_step=100, world_size=2, batch_size=4, num_videos=40) == 5
    # Rounded to the nearest step, never 0.
    assert derive_steps(flops, flops_per_step=290, world_size=1, batch_size=4, num_videos=40) == 3
    assert derive_steps(flops, flops_per_step=10**6, world_size=1, batch_size=4,
                        num_videos=40) == 1
    epochs = Budget('epochs', 2.5)
    # 42 videos in batches of 4 with drop_last: 10 steps per epoch.
    assert derive_steps(epochs, flops_per_step=None, world_size=1, batch_size=4,
                        num_videos=42) == 25
    assert derive_steps(Budget('device_seconds', 5.0), flops_per_step=1, world_size=1,
                        batch_size=4, num_videos=42) is None


@pytest.mark.parametrize('cfg, match', [
    (dict(unit='flops', value=1.0), 'unknown budget unit'),
    (dict(unit='train_flops', value=-1.0), 'positive number'),
    (dict(unit='train_flops'), 'dict\\(unit=..., value=...\\)'),
    (dict(max_iters=10), 'dict\\(unit=..., value=...\\)'),
])
def test_malformed_budgets_are_refused(cfg, match):
    with pytest.raises(BudgetError, match=match):
        Budget.from_cfg(cfg)


def test_schedule_factor_warmup_then_cosine():
    assert schedule_factor(0.0, 0.1) == pytest.approx(0.01)
    assert schedule_factor(0.05, 0.1) == pytest.approx(0.01 + 0.99 * 0.5)
    assert schedule_factor(0.1, 0.1) == pytest.approx(1.0)
    assert schedule_factor(0.55, 0.1) == pytest.approx(0.5)
    assert schedule_factor(1.0, 0.1) == pytest.approx(0.0, abs=1e-12)
    assert schedule_factor(2.0, 0.1) == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope='module')
def tiny_suite():
    suite = Suite.load(TINY)
    ensure_data(suite)
    return suite


def _supervised(suite: Suite, batch_size: int) -> Config:
    cfg = load_method_config(SUPERVISED, suite)
    cfg.train_dataloader.batch_size = batch_size
    return cfg


def test_costlier_steps_get_proportionally_fewer(tiny_suite, tmp_path):
    """Batch 8 costs k = 2 times batch 4 per step: it gets half the steps, and both consume the
    budget to within one step."""
    cheap, costly = _supervised(tiny_suite, 4), _supervised(tiny_suite, 8)
    flops_cheap, _, _, videos = pt.probe_step(cheap, seed=0)
    flops_costly, clips, _, _ = pt.probe_step(costly, seed=0)
    assert flops_costly == pytest.approx(2 * flops_cheap, rel=0.02)
    assert clips == 8
    budget = dict(unit='train_flops', value=6 * flops_cheap)
    stats = {}
    for name, cfg in (('cheap', cheap), ('costly', costly)):
        _, stats[name] = pt.pretrain(cfg, work_dir=tmp_path / name, seed=0, budget=budget,
                                     log_interval=1)
    assert stats['cheap']['iters'] == 6 and stats['costly']['iters'] == 3
    for name, flops in (('cheap', flops_cheap), ('costly', flops_costly)):
        consumed = stats[name]['train_tflops'] * 1e12
        assert abs(consumed - budget['value']) <= flops
        assert stats[name]['clips_seen'] == stats[name]['iters'] * (4 if name == 'cheap' else 8)
        assert stats[name]['epochs'] == pytest.approx(
            stats[name]['clips_seen'] / videos, abs=1e-3)
        assert stats[name]['device_s'] > 0 and stats[name]['peak_mem_mb'] > 0
        assert stats[name]['budget'] == budget and stats[name]['matched'] is True


def test_device_seconds_budget_stops_when_spent(tiny_suite, tmp_path):
    budget = dict(unit='device_seconds', value=1.0)
    _, stats = pt.pretrain(_supervised(tiny_suite, 4), work_dir=tmp_path, seed=0,
                           budget=budget, log_interval=1)
    assert stats['device_s'] >= 1.0
    assert 1 <= stats['iters'] < 1000  # stopped by the budget, long before the iteration cap


def test_budget_hook_stops_at_the_step_that_spends_the_budget(monkeypatch):
    """Steps of 0.4 s against 1.0 s: the third step crosses the budget and is the last; the lr
    follows the fraction spent (warm-up 0, cosine)."""
    from mmengine.logging import MessageHub

    import vssl_bench.engine.budget as budget_module
    clock = iter([0.0, 0.4, 1.0, 1.4, 2.0, 2.4])
    monkeypatch.setattr(budget_module.time, 'perf_counter', lambda: next(clock))

    class Runner:
        iter = 0
        message_hub = MessageHub('budget-test')
        optim_wrapper = type('Wrapper', (), {'param_groups': [{'lr': 0.1}]})()
        train_loop = type('Loop', (), {'stop_training': False})()

    runner, hook = Runner(), budget_module.BudgetHook(device_seconds=1.0, warmup_ratio=0.0)
    hook.before_train(runner)
    lrs = []
    for step in range(3):
        assert not runner.train_loop.stop_training
        hook.before_train_iter(runner, step)
        lrs.append(runner.optim_wrapper.param_groups[0]['lr'])
        hook.after_train_iter(runner, step)
    assert runner.train_loop.stop_training
    assert hook.spent(runner) == pytest.approx(1.2)
    assert lrs == pytest.approx([0.1, 0.1 * 0.5 * (1 + math.cos(math.pi * 0.4)),
                                 0.1 * 0.5 * (1 + math.cos(math.pi * 0.8))])


def test_budgeted_suite_refuses_method_iteration_counts(tiny_suite, tmp_path):
    for key, value in (('train_cfg', dict(type='IterBasedTrainLoop', max_iters=5)),
                       ('max_iters', 5), ('max_epochs', 2), ('param_scheduler', [])):
        path = tmp_path / f'{key}.py'
        path.write_text(f"_base_ = ['{SUPERVISED}']\n{key} = {value!r}\n")
        with pytest.raises(ConfigError, match=f"sets '{key}'.*budget"):
            load_method_config(str(path), tiny_suite)


def test_suite_without_budget_is_refused(tmp_path):
    path = tmp_path / 'suite.py'
    path.write_text(f"_base_ = ['{ROOT / 'configs/_base_/suite_synthmotion.py'}']\n"
                    "suite_name = 'x'\npretrain = dict(_delete_=True, max_iters=10)\n")
    with pytest.raises(ConfigError, match='pretrain needs a budget'):
        Suite.load(path)


def test_scaled_suite_scales_the_budget(tiny_suite):
    half = tiny_suite.scaled(0.5)
    assert half.budget.value == pytest.approx(0.5 * tiny_suite.budget.value)
    assert half.budget.unit == tiny_suite.budget.unit
    assert tiny_suite.pretrain['budget']['value'] == tiny_suite.budget.value  # unchanged
    assert math.isclose(tiny_suite.scaled(1.0).budget.value, tiny_suite.budget.value)


def test_budget_curve_from_scaled_results(tmp_path):
    from vssl_bench.core.io import atomic_write_json, read_json
    from vssl_bench.report.budget_curve import (compute_ticks, curve_points, curve_table, scale_dir,
                                                write_budget_curve)

    def row(method, protocol, metric, mean, tflops, untrained=False, **ci):
        return dict(method=method, protocol=protocol, metric=metric, mean=mean, std=1.0, n=2,
                    seeds=[0, 1], values=[mean - 0.5, mean + 0.5],
                    compute=dict(train_tflops=tflops, untrained=untrained), **ci)

    for scale in (0.5, 1.0):
        rows = [row('CVRL', 'linear', 'top1', 20 + 10 * scale, 4 * scale,
                    sig_vs_random_init=True),
                row('CVRL', 'linear', 'top5', 60.0, 4 * scale),
                # R@1: on the plateau at 0.5x (not distinguishable), above at 1x
                row('CVRL', 'retrieval', 'R@1', 30 * scale, 4 * scale,
                    sig_vs_random_init=scale == 1.0),
                row('RandomInit', 'linear', 'top1', 9.0, 0.0, untrained=True,
                    ci_low=7.0, ci_high=11.5),
                row('RandomInit', 'retrieval', 'R@1', 14.0, 0.0, untrained=True)]
        atomic_write_json(scale_dir(tmp_path, scale) / 'leaderboard.json',
                          dict(suite='s', rows=rows))
    assert scale_dir(tmp_path, 1.0) == tmp_path
    png = write_budget_curve(tmp_path, [1.0, 0.5], 's')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = (tmp_path / 'budget_curve.md').read_text()
    assert '| CVRL     | 0.5            | 2.00           | 25.0 ± 1.0    | 15.0 ± 1.0 †' in table
    # take-off: linear from the smallest budget, R@1 only at 1x (4 TFLOPs)
    take_off = {(t['metric'], t['scale'], t['train_tflops'], t['plateau_until'])
                for t in read_json(tmp_path / 'budget_curve.json')['take_off']}
    assert take_off == {('top1', 0.5, 2.0, None), ('R@1', 1.0, 4.0, 0.5)}
    assert '| CVRL     | 0.5x (2.0 TFLOPs) | 1x (4.0 TFLOPs) |' in table
    assert 'top5' not in table  # not a headline
    # the untrained baseline is not a point but a band (its interval) on every panel
    points = curve_points(tmp_path, [1.0, 0.5])
    assert {p['method'] for p in points} == {'CVRL'}
    assert {(p['low'], p['high']) for p in points if p['scale'] == 1.0
            and p['metric'] == 'top1'} == {(29.0, 31.0)}  # no CI in the rows: mean ± std
    assert '| RandomInit  | 9.0 [7.0, 11.5]' in table
    assert {(p['scale'], p['delta_vs_random_init']) for p in points
            if p['metric'] == 'R@1'} == {(0.5, 1.0), (1.0, 16.0)}
    bands = read_json(tmp_path / 'budget_curve.json')['bands']
    assert [(b['method'], b['low'], b['high'], b['interval']) for b in bands] == [
        ('RandomInit', 7.0, 11.5, '95% CI'), ('RandomInit', 13.0, 15.0, '± std')]
    # one x tick per scale, at the compute spent there (untrained methods are not points)
    assert compute_ticks(curve_points(tmp_path, [1.0, 0.5])) == [(2.0, '2'), (4.0, '4')]
    with pytest.raises(FileNotFoundError, match='--budget-scale 0.25'):
        write_budget_curve(tmp_path, [0.25, 1.0], 's')
    # a point made from one seed says which (records of older curves may not: '1 seed')
    single = dict(points[0], n=1, seeds=[1], std=0.0)
    assert f'{single["mean"]:.1f} (seed 1)' in curve_table([single])
    assert f'{single["mean"]:.1f} (1 seed)' in curve_table([dict(single, seeds=None)])
    # the PNG's legend names a method's seeds where all its points share them
    from vssl_bench.report.budget_curve import legend_label
    assert legend_label('CVRL', points) == 'CVRL (seeds 0,1)'
    assert legend_label('CVRL', [single, dict(single, scale=0.5)]) == 'CVRL (seed 1)'
    assert legend_label('CVRL', [single, points[1]]) == 'CVRL'  # seeds differ between points
    assert legend_label('CVRL', [dict(single, seeds=None)]) == 'CVRL'


def test_step_budget_schedule_warms_up_then_decays(monkeypatch):
    """4 steps, warm-up 0.25: lr factors 0.01, 1, cos-decay at 1/3 and 2/3 of the rest."""
    from mmengine.logging import MessageHub

    import vssl_bench.engine.budget as budget_module

    class Runner:
        iter = 0
        message_hub = MessageHub('budget-steps-test')
        optim_wrapper = type('Wrapper', (), {'param_groups': [{'lr': 2.0}]})()
        train_loop = type('Loop', (), {'stop_training': False})()

    runner, hook = Runner(), budget_module.BudgetHook(max_iters=4, warmup_ratio=0.25)
    hook.before_train(runner)
    lrs = []
    for step in range(4):
        runner.iter = step
        hook.before_train_iter(runner, step)
        lrs.append(runner.optim_wrapper.param_groups[0]['lr'])
        hook.after_train_iter(runner, step)
    assert lrs == pytest.approx([0.02, 2.0, 2.0 * 0.75, 2.0 * 0.25])
    assert not runner.train_loop.stop_training  # the loop's max_iters ends a step budget


def test_budget_rule_reads_where_the_upper_bound_learns():
    from vssl_bench.report.budget_curve import budget_rule, budget_rule_text

    def point(scale, mean, method='Supervised', protocol='linear'):
        return dict(scale=scale, method=method, protocol=protocol, metric='top1', mean=mean,
                    train_tflops=30.0 * scale)
    # Dips back under 60 at 0.5x: it learns from 1x (every larger budget stays above).
    points = [point(0.25, 30.0), point(0.5, 58.0), point(1.0, 75.0), point(2.0, 90.0),
              point(0.25, 99.0, method='CVRL'), point(0.25, 99.0, protocol='knn')]
    rule = budget_rule(points)
    assert (rule['learns_at'], rule['learns_at_tflops']) == (1.0, 30.0)
    assert (rule['recommended_scale'], rule['recommended_tflops']) == (8.0, 240.0)
    assert 'from 1x (30.0 TFLOPs)' in budget_rule_text(rule)
    assert '8x the suite\'s budget = 240.0 TFLOPs' in budget_rule_text(rule)
    assert budget_rule(points, factor=2.0)['recommended_tflops'] == 60.0
    points[1]['mean'] = 61.0
    points[2]['mean'] = 59.0
    assert budget_rule(points)['learns_at'] == 2.0
    never = budget_rule([point(0.5, 20.0), point(1.0, 40.0)])
    assert never['learns_at'] is None and never['recommended_tflops'] is None
    assert '--budget-scale ... 2' in budget_rule_text(never)
    assert budget_rule([point(1.0, 90.0, method='CVRL')]) is None
    assert 'run the curve with Supervised' in budget_rule_text(None)
