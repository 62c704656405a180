"""Everyday use of `vssl-bench run`: a short console with progress, mmengine's logs in the work
dirs (``--verbose`` shows them), config overrides that enter the run hash, the headline table."""
from __future__ import annotations

from pathlib import Path

import pytest

from vssl_bench.cli import build_parser, main
from vssl_bench.data.synthmotion import generate
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.run_records import run_config_hash
from vssl_bench.harness.suite_config import Suite, load_method_config
from vssl_bench.report.leaderboard import headline_table

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


def _run(tiny_data, tmp_path, *extra):
    return main(['run', str(TINY), '--data-root', str(tiny_data), '--out', str(tmp_path / 'out'),
                 '--work-dir', str(tmp_path / 'work'), '--methods', 'RandomInit,CVRL', *extra])


def test_console_shows_stages_and_progress_and_logs_go_to_the_work_dir(tiny_data, tmp_path,
                                                                        capfd):
    assert _run(tiny_data, tmp_path) == 0
    out, err = capfd.readouterr()
    lines = (out + err).splitlines()
    assert len(lines) <= 40, '\n'.join(lines)
    assert 'Config:' not in out + err and 'System environment' not in out + err
    assert any(line.startswith('CVRL seed 0: pretrained ') for line in lines)
    assert any(line.startswith('CVRL seed 0: linear top1 ') and '; knn top1 ' in line
               and '; retrieval R@1 ' in line for line in lines)  # one line: features
    assert any(line.startswith('[2/2] CVRL seed 0 done') and 'ETA' in line for line in lines)
    assert 'full tables' in out and str(tmp_path / 'out' / 'leaderboard.md') in out
    logs = list((tmp_path / 'work' / 'pretrain').glob('CVRL-*/seed0/*/*.log'))
    assert logs and 'Config:' in logs[0].read_text()


def test_verbose_shows_mmengine_logs(tiny_data, tmp_path, capfd):
    assert _run(tiny_data, tmp_path, '--verbose', '--method-cfg-options',
                'train_dataloader.batch_size=2') == 0
    out, err = capfd.readouterr()
    assert 'Config:' in out + err


def test_cfg_options_and_method_cfg_options_enter_the_run_hash(tiny_data):
    load_plugins()
    args = build_parser().parse_args(['run', str(TINY), '--cfg-options',
                                      'pretrain.budget.value=2e10', '--method-cfg-options',
                                      'train_dataloader.batch_size=2'])
    assert args.cfg_options == {'pretrain.budget.value': 2e10}
    assert args.method_cfg_options == {'train_dataloader.batch_size': 2}
    plain = Suite.load(TINY, data_root=str(tiny_data))
    hashes = set()
    for suite in (plain, Suite.load(TINY, data_root=str(tiny_data), cfg_options=args.cfg_options),
                  Suite.load(TINY, data_root=str(tiny_data),
                             method_cfg_options=args.method_cfg_options)):
        cfg = load_method_config(suite.methods[1], suite)
        hashes.add(run_config_hash(suite, cfg))
    assert len(hashes) == 3
    suite = Suite.load(TINY, data_root=str(tiny_data), cfg_options=args.cfg_options,
                       method_cfg_options=args.method_cfg_options)
    assert suite.pretrain['budget']['value'] == 2e10
    cfg = load_method_config(suite.methods[1], suite)
    assert cfg.train_dataloader.batch_size == 2
    # the suite's own method_overrides are kept (num_workers=0 in tiny.py)
    assert cfg.train_dataloader.num_workers == 0


def test_headline_table_is_compact():
    def row(method, protocol, metric, mean, **marks):
        return dict(method=method, protocol=protocol, metric=metric, mean=mean, n=1,
                    compute=dict(train_tflops=3.0), **marks)
    board = dict(suite='s', rows=[
        row('RandomInit', 'linear', 'top1', 20.0), row('RandomInit', 'linear', 'top5', 50.0),
        row('CVRL', 'linear', 'top1', 40.0, sig_vs_random_init=False),
        row('CVRL', 'semisup', 'top1_10pct', 30.0), row('CVRL', 'retrieval', 'R@5', 70.0)])
    text = headline_table(board, 'results/s')
    header = text.splitlines()[1].split()
    assert header == ['method', 'linear', 'semisup', '10%', 'TFLOPs']
    assert '40.0†' in text and 'top5' not in text and '50.0' not in text
    assert 'results/s/leaderboard.md' in text


def test_progress_line_during_pretraining(tiny_data, tmp_path, capfd, monkeypatch):
    from vssl_bench.engine import step_progress
    monkeypatch.setattr(step_progress, 'EVERY_S', 0.0)  # a line after every step
    assert _run(tiny_data, tmp_path) == 0
    out, err = capfd.readouterr()
    steps = [line for line in (out + err).splitlines() if line.startswith('CVRL seed 0: step ')]
    total = int(steps[-1].split('/')[1].split()[0])
    assert len(steps) == total >= 2, steps  # one line per step, the last at total/total
    assert steps[-1].startswith(f'CVRL seed 0: step {total}/{total} (100 %), loss ')
    assert ', ETA 0m00s' in steps[-1] and ', ETA ' in steps[0]
    assert not any(line.startswith('RandomInit seed 0: step') for line in (out + err).splitlines())


def test_progress_text_known_answers():
    from vssl_bench.engine.step_progress import progress_text
    # 20 steps in 60 s, 60 left: 3 s a step -> 3 minutes
    assert progress_text('CVRL seed 0', 40, 100, 60.0, 20, 9.5554) == (
        'CVRL seed 0: step 40/100 (40 %), loss 9.555, 1m00s elapsed, ETA 3m00s')
    # a device-seconds budget: no step count, the ETA is the budget's seconds left
    assert progress_text('TCLR seed 1', 7, None, 30.0, 7, None, 25.0, 3625.0) == (
        'TCLR seed 1: step 7, 0m30s elapsed, device 25/3625 s, ETA 1h00m00s')


def test_suite_eta_does_not_extrapolate_from_an_untrained_row(monkeypatch, capsys):
    """The default suite starts with RandomInit (no pretraining, seconds) before three
    pretrainings (minutes each): its ETA after the first row is unknown, not 3 x RandomInit's
    time (the audit saw '3m07s' with 10 minutes left), and later counts the pretraining rows at
    their own mean."""
    from vssl_bench.core import console
    times = iter([0.0, 10.0, 610.0, 1210.0, 1810.0])
    monkeypatch.setattr(console.time, 'perf_counter', lambda: next(times))
    progress = console.SuiteProgress(4, 'synthmotion', trains=[False, True, True, True])
    for name in ('RandomInit', 'CVRL', 'TCLR', 'Supervised'):
        progress.advance(f'{name} seed 0')
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        '[1/4] RandomInit seed 0 done; elapsed 0m10s, ETA unknown (no pretraining finished yet)',
        '[2/4] CVRL seed 0 done; elapsed 10m10s, ETA 20m00s',
        '[3/4] TCLR seed 0 done; elapsed 20m10s, ETA 10m00s',
        '[4/4] Supervised seed 0 done; elapsed 30m10s, ETA 0m00s']


def test_eta_known_answers():
    from vssl_bench.core.console import eta
    assert eta([], [True, False]) is None
    assert eta([5.0], [False, False, False]) == 10.0  # evaluation-only runs at their mean
    assert eta([600.0], [True, False]) == 600.0  # no evaluation-only run done: the trained mean
    assert eta([10.0, 600.0, 800.0], [False, True, True, False, True]) == 700.0 + 10.0


def test_every_cli_argument_has_help_and_version_prints(capsys):
    """`vssl-bench <command> -h` explains every argument; `--version` names the installed one."""
    import argparse
    from importlib.metadata import version

    from vssl_bench.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + [name])
            elif not action.help:
                missing.append(' '.join(path + [action.dest]))

    walk(build_parser(), ['vssl-bench'])
    assert missing == []
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(['--version'])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f'vssl-bench {version("vssl-bench")}'
