"""Suite families: pretraining on another generated data set (transfer) shares the source's
weights, the family's members and report, and the rank agreement (Kendall tau-b) on cases with
known answers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vssl_bench.core.errors import UserError
from vssl_bench.report.rank_agreement import rank_agreement, tau_b

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / 'configs/_base_/suite_synthmotion.py'
TINY = ROOT / 'configs/suites/tiny.py'


# --- rank agreement ---------------------------------------------------------------------------

def _outcomes(accuracies, videos=1000, seeds=1, rng=None):
    """method -> (seeds, videos) hits with exactly ``accuracy`` of the videos right per seed
    (rng: shuffled per seed, else the first ones)."""
    out = {}
    for name, accuracy in accuracies.items():
        rows = []
        for _ in range(seeds):
            row = np.zeros(videos)
            row[:round(accuracy * videos)] = 1
            rows.append(rng.permutation(row) if rng is not None else row)
        out[name] = np.stack(rows)
    return out


def test_tau_b_hand_computed():
    # (1, 2, 3, 4) against (1, 3, 2, 4): 5 concordant pairs, 1 discordant -> (5 - 1) / 6.
    assert tau_b(np.array([1, 2, 3, 4]), np.array([1, 3, 2, 4])) == pytest.approx(4 / 6)
    assert tau_b(np.array([1, 2, 3]), np.array([3, 2, 1])) == pytest.approx(-1)
    # One tie on one side: tau-b = (C - D) / sqrt((n0 - n1) (n0 - n2)) = 2 / sqrt(2 * 3).
    assert tau_b(np.array([1, 1, 2]), np.array([1, 2, 3])) == pytest.approx(2 / np.sqrt(6))
    assert np.isnan(tau_b(np.array([5, 5, 5]), np.array([1, 2, 3])))
    with pytest.raises(ValueError, match='same length'):
        tau_b(np.array([1, 2]), np.array([1, 2, 3]))


def test_well_separated_rankings_agree_or_reverse_with_a_tight_interval():
    spread = {'A': 0.1, 'B': 0.4, 'C': 0.7, 'D': 0.95}
    rng = np.random.default_rng(0)
    same = rank_agreement(_outcomes(spread, rng=rng), _outcomes(spread, rng=rng), replicates=300)
    assert (same.tau, same.low, same.high) == (1.0, 1.0, 1.0)
    assert same.methods == ('A', 'B', 'C', 'D') and same.valid == 300 and same.min_seeds == 1
    flipped = {m: 1.05 - a for m, a in spread.items()}
    reverse = rank_agreement(_outcomes(spread, rng=rng), _outcomes(flipped, rng=rng),
                             replicates=300)
    assert (reverse.tau, reverse.low, reverse.high) == (-1.0, -1.0, -1.0)


def test_indistinguishable_methods_give_an_interval_that_spans_zero():
    # Four methods within 1 % of each other on 100 videos: their order is noise, which the
    # interval must show even where the point estimate happens to be high.
    close = {'A': 0.50, 'B': 0.51, 'C': 0.52, 'D': 0.53}
    rng = np.random.default_rng(1)
    found = rank_agreement(_outcomes(close, videos=100, rng=rng),
                           _outcomes(close, videos=100, rng=rng), replicates=500)
    assert found.low < 0 < found.high
    assert found.high - found.low > 1.0


def test_seeds_widen_the_interval():
    """Seed-to-seed spread is part of the interval: the same per-seed outcomes, once with the
    seeds disagreeing about the order and once with every seed the same, give a wider and a
    narrower interval."""
    rng = np.random.default_rng(2)
    steady = {m: np.stack([_outcomes({m: a}, videos=400, rng=rng)[m][0]] * 3)
              for m, a in {'A': 0.40, 'B': 0.45, 'C': 0.50}.items()}
    shaky = {m: np.stack([_outcomes({m: a + d}, videos=400, rng=rng)[m][0]
                          for d in (-0.08, 0.0, 0.08)])
             for m, a in {'A': 0.40, 'B': 0.45, 'C': 0.50}.items()}
    narrow = rank_agreement(steady, steady, replicates=400)
    wide = rank_agreement(shaky, shaky, replicates=400)
    assert narrow.min_seeds == wide.min_seeds == 3
    assert (wide.high - wide.low) > (narrow.high - narrow.low)


def test_agreement_needs_shared_methods_and_one_test_set():
    with pytest.raises(ValueError, match='2 or more methods'):
        rank_agreement({'A': np.ones((1, 5))}, {'A': np.ones((1, 5)), 'B': np.ones((1, 5))})
    with pytest.raises(ValueError, match='same test videos'):
        rank_agreement({'A': np.ones((1, 5)), 'B': np.ones((1, 6))},
                       {'A': np.ones((1, 5)), 'B': np.ones((1, 5))})


# --- pretraining on another generated data set ---------------------------------------------

@pytest.fixture(scope='module')
def tiny_sets(tmp_path_factory) -> dict[str, Path]:
    """Tiny SynthMotion and SynthEvents (generated once for the module)."""
    from vssl_bench.data import procedural
    root = tmp_path_factory.mktemp('family_data')
    return {name: procedural.generate(procedural.get(name), root / name, 'tiny', seed=0,
                                      progress=False)
            for name in ('synthmotion', 'synthevents')}


def _suite_file(tmp_path: Path, data: str, name: str = 'x') -> Path:
    path = tmp_path / f'{name}.py'
    path.write_text(f"_base_ = ['{BASE}']\nsuite_name = '{name}'\ndata = {data}\n")
    return path


def test_transfer_pretrains_on_the_source_and_shares_its_weights(tmp_path, tiny_sets):
    from vssl_bench.harness.run_records import pretrain_hash, run_config_hash
    from vssl_bench.harness.suite_config import ann_path, load_method_config
    from vssl_bench.harness.validate import load_suite
    src, dst = str(tiny_sets['synthmotion']), str(tiny_sets['synthevents'])
    on_source = load_suite(_suite_file(tmp_path, f"dict(root='{src}', scale='tiny')", 'a'))
    on_target = load_suite(_suite_file(
        tmp_path, f"dict(type='synthevents', root='{dst}', scale='tiny')", 'b'))
    transfer = load_suite(_suite_file(tmp_path, (
        f"dict(type='synthevents', root='{dst}', scale='tiny', "
        f"pretrain_data=dict(type='synthmotion', root='{src}', scale='tiny'))"), 'c'))
    trained = 0
    for entry in transfer.methods:
        cfg = load_method_config(entry, transfer)
        if 'train_dataloader' not in cfg:
            continue  # RandomInit trains nothing
        # The pretraining reads the source's list, videos and frame cache...
        dataset = cfg.train_dataloader.dataset
        assert (dataset.data_root, dataset.ann_file, dataset.cache_dir) == (
            src, f'{src}/pretrain.txt', f'{src}/.frame_cache')
        # ...and is the source suite's pretraining: same hash, same work dir.
        assert pretrain_hash(transfer, cfg) == pretrain_hash(
            on_source, load_method_config(entry, on_source))
        assert pretrain_hash(transfer, cfg) != pretrain_hash(
            on_target, load_method_config(entry, on_target))
        # Its records are its own (the evaluation data set differs).
        assert run_config_hash(transfer, cfg) != run_config_hash(
            on_source, load_method_config(entry, on_source))
        trained += 1
    assert trained == 7
    # The protocols read the target's lists.
    assert ann_path(transfer, 'train') == f'{dst}/train.txt'
    assert ann_path(transfer, 'test') == f'{dst}/test.txt'


@pytest.mark.parametrize('data, message', [
    ("dict(_delete_=True, root='r', splits=dict(pretrain='p.txt', train='t.txt', test='e.txt'), "
     "pretrain_data=dict(type='synthmotion', root='s'))", 'needs a generated data set'),
    ("dict(type='synthevents', pretrain_data=dict(type='ucf101', root='u'))",
     'must be another generated data set'),
    ("dict(type='synthevents', pretrain_data=dict(type='synthmotion'))", 'needs a root folder'),
    ("dict(type='synthevents', pretrain_data=dict(type='synthmotion', root='s', fps=3))",
     'needs a root folder'),
    ("dict(type='synthevents', pretrain_data=dict(type='synthmotion', root='s', scale='huge'))",
     "data.pretrain_data: unknown SynthMotion scale 'huge'"),
])
def test_bad_pretraining_source_is_refused_by_name(tmp_path, data, message):
    from vssl_bench.harness.validate import load_suite
    with pytest.raises(UserError, match=message):
        load_suite(_suite_file(tmp_path, data))


def test_source_folder_holding_another_data_set_is_refused(tmp_path):
    from vssl_bench.harness.validate import check_data, load_suite
    source = tmp_path / 's'
    source.mkdir()
    (source / 'meta.json').write_text(json.dumps(dict(dataset='synthinteract', scale='default',
                                                      seed=0, version=1)))
    suite = load_suite(_suite_file(tmp_path, (
        f"dict(type='synthevents', root='{tmp_path / 't'}', "
        f"pretrain_data=dict(type='synthmotion', root='{source}'))")))
    with pytest.raises(UserError, match='holds another generated data set'):
        check_data(suite)


# --- families ------------------------------------------------------------------------------

def _family_file(tmp_path: Path, datasets: str, extra: str = '') -> Path:
    path = tmp_path / 'fam.py'
    path.write_text(f"_base_ = ['{TINY}']\nfamily_name = 'fam'\ndatasets = {datasets}\n{extra}")
    return path


def _two_tiny_sets(roots: dict[str, Path]) -> str:
    return (f"dict(motion=dict(data=dict(type='synthmotion', root='{roots['synthmotion']}', "
            "scale='tiny'), budget=dict(unit='train_flops', value=1.3e10)), "
            f"events=dict(data=dict(type='synthevents', root='{roots['synthevents']}', "
            "scale='tiny'), budget=dict(unit='train_flops', value=2.6e10)))")


def test_family_members_pair_every_source_with_every_target(tmp_path):
    from vssl_bench.harness.family import load_family
    roots = {'synthmotion': tmp_path / 'm', 'synthevents': tmp_path / 'e'}
    family = load_family(_family_file(tmp_path, _two_tiny_sets(roots)))
    assert [(m.source, m.target, m.folder, m.suite.name) for m in family.members] == [
        ('motion', 'motion', 'motion', 'fam-motion'),
        ('events', 'events', 'events', 'fam-events'),
        ('events', 'motion', 'motion_from_events', 'fam-motion-from-events'),
        ('motion', 'events', 'events_from_motion', 'fam-events-from-motion')]
    # Each member pretrains at its source's budget.
    budgets = {m.folder: m.suite.pretrain['budget']['value'] for m in family.members}
    assert budgets == {'motion': 1.3e10, 'events': 2.6e10, 'motion_from_events': 2.6e10,
                       'events_from_motion': 1.3e10}
    in_domain = load_family(_family_file(tmp_path, _two_tiny_sets(roots), 'transfer = False'))
    assert [m.folder for m in in_domain.members] == ['motion', 'events']


@pytest.mark.parametrize('datasets, extra, message', [
    ('None', '', 'datasets must be a dict'),
    ("dict(a=dict(data=dict(type='synthmotion')))", '', 'must be dict\\(data='),
    ("dict(a=dict(data=dict(type='nosuch', root='x'), budget=dict(unit='train_flops', "
     "value=1e10)))", '', "data set a pretrained on a: .*unknown data.type 'nosuch'"),
    ("dict(a=dict(data=dict(type='synthmotion', root='x'), budget=dict(unit='train_flops', "
     "value=1e10)))", "transfer = 'yes'", 'transfer=.yes. must be True'),
    ("{'../x': dict(data=dict(type='synthmotion', root='x'), budget=dict(unit='train_flops', "
     "value=1e10))}", '', 'a data set name names folders'),
])
def test_bad_family_config_is_refused_by_name(tmp_path, datasets, extra, message):
    from vssl_bench.harness.family import load_family
    with pytest.raises(UserError, match=message):
        load_family(_family_file(tmp_path, datasets, extra))


def test_tiny_family_end_to_end(tmp_path, tiny_sets):
    """Two tiny data sets, RandomInit and Supervised: in-domain members pretrain, transfer
    members reuse those weights, and the report compares the rankings."""
    from vssl_bench.harness.family import load_family, run_family
    family = load_family(_family_file(tmp_path, _two_tiny_sets(tiny_sets), (
        "evaluation = dict(protocols=[dict(type='LinearProbe', folds=2), dict(type='KNN', k=3), "
        "dict(type='Retrieval')])\n")))
    work = tmp_path / 'work'
    report, failures = run_family(family, tmp_path / 'out', work,
                                  methods=['RandomInit', 'Supervised'])
    assert failures == []
    # One pretraining per (method, source): Supervised twice, never for a transfer member.
    assert len(list((work / 'pretrain').glob('Supervised-*/seed0/final_weights.pth'))) == 2
    record = json.loads((tmp_path / 'out/events_from_motion/runs/Supervised/seed0/linear.json')
                        .read_text())
    assert record['pretrain_data']['type'] == 'synthmotion'
    assert record['pretrain']['train_tflops'] == pytest.approx(0.013, rel=0.3)
    own = json.loads((tmp_path / 'out/events/runs/Supervised/seed0/linear.json').read_text())
    assert 'pretrain_data' not in own
    assert own['pretrain']['train_tflops'] == pytest.approx(0.026, rel=0.3)
    on_disk = json.loads((tmp_path / 'out/family.json').read_text())
    assert on_disk == json.loads(json.dumps(report))
    pairs = {(a['protocol'], a['first'], a['second']) for a in report['agreement']}
    assert ('linear', 'motion', 'events') in pairs
    assert ('linear', 'events', 'events_from_motion') in pairs
    assert report['methods'] == ['RandomInit', 'Supervised']  # the methods that ran
    # Every method; the self-supervised ones alone: none ran, so no such rows.
    assert {a['among'] for a in report['agreement']} == {'all methods'}
    assert all(a['methods'] == ['RandomInit', 'Supervised'] for a in report['agreement'])
    text = (tmp_path / 'out/family.md').read_text()
    assert 'events ← motion' in text and 'One seed' in text
    assert set(report['upper_bound']['linear_top1']) == {'motion', 'events'}
    # results/README.md's block: the same cells and the linear rows of the agreement
    from vssl_bench.report.family_report import render_family
    block = render_family(on_disk, 'results/fam/family.json')
    assert block.startswith('| method | motion | events | motion ← events | events ← motion |')
    cell = report['cells']['events_from_motion']['linear/top1']['Supervised']
    assert f'| Supervised | ' in block and f' | {cell} |' in block
    assert block.count('\n| motion | events | all methods (2) |') == 1 and 'One seed' in block


@pytest.mark.parametrize('path', sorted((ROOT / 'configs/families').glob('*.py')),
                         ids=lambda p: p.name)
def test_committed_family_loads(path):
    from vssl_bench.harness.family import load_family
    family = load_family(path)
    assert len(family.members) == len(family.datasets) ** (2 if family.transfer else 1)
    for member in family.members:
        assert member.suite.pretrain['budget']['value'] > 0 and member.suite.methods


def test_report_compares_the_self_supervised_methods_without_the_bounds(tmp_path):
    """The bounds' places (RandomInit last, Supervised first) agree almost by construction: the
    report also ranks the self-supervised methods alone. Here the bounds agree and the two
    self-supervised methods swap places, so tau is high with the bounds and -1 without."""
    from types import SimpleNamespace

    from vssl_bench.core.io import atomic_write_json
    from vssl_bench.report.family_report import write_family_report
    from vssl_bench.report.leaderboard import write_leaderboard
    accuracy = {'a': dict(RandomInit=0.1, CVRL=0.5, TCLR=0.3, Supervised=0.9),
                'b': dict(RandomInit=0.1, CVRL=0.3, TCLR=0.5, Supervised=0.9)}
    for folder, methods in accuracy.items():
        for method, acc in methods.items():
            hits = '1' * round(200 * acc) + '0' * (200 - round(200 * acc))
            atomic_write_json(tmp_path / folder / f'runs/{method}/seed0/linear.json', dict(
                suite=folder, method=method, seed=0, protocol='linear', protocol_version='1',
                config_hash='x', metrics={'top1': 100.0 * acc}, per_video={'top1': hits}))
        write_leaderboard(tmp_path / folder, folder, method_order=list(methods))
    family = SimpleNamespace(name='f', datasets=('a', 'b'), members=[
        SimpleNamespace(source=d, target=d, folder=d) for d in ('a', 'b')])
    report = write_family_report(tmp_path, family, replicates=200)
    rows = {r['among']: r for r in report['agreement'] if r['protocol'] == 'linear'}
    assert rows['all methods']['tau'] == pytest.approx(4 / 6)
    assert rows['self-supervised']['methods'] == ['CVRL', 'TCLR']
    assert rows['self-supervised']['tau'] == -1.0
    assert rows['self-supervised']['high'] == -1.0  # 40 points on 200 videos: never swapped back
    # the records are linear v1, an earlier version than the registered probe: said once, in
    # family.json, family.md and the README block
    from vssl_bench.report.family_report import render_family
    [outdated] = report['outdated']
    assert outdated.startswith('Made with an earlier version of a protocol: linear v1 '
                               '(every method), where linear v2 ')
    assert (tmp_path / 'family.md').read_text().count(outdated) == 1
    assert outdated in render_family(report, 'family.json')


def test_family_command_refuses_bad_input_in_one_line(tmp_path, capsys):
    from vssl_bench.cli import main
    assert main(['family', str(tmp_path / 'nope.py')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'nope.py not found' in err[0]
    roots = {'synthmotion': tmp_path / 'm', 'synthevents': tmp_path / 'e'}
    path = _family_file(tmp_path, _two_tiny_sets(roots))
    assert main(['family', str(path), '--methods', 'NoSuch', '--out', str(tmp_path / 'o'),
                 '--work-dir', str(tmp_path / 'w')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'NoSuch' in err[0]
    assert not (tmp_path / 'o').exists() and not (tmp_path / 'm').exists()  # nothing made
