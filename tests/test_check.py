"""`vssl-bench check`: accuracy regression check against a reference file."""
from __future__ import annotations

import math

import pytest

from tests.test_leaderboard import write_records
from vssl_bench.cli import main
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.report.check import FORMAT, build_reference, compare, load_results


def row(method: str, protocol: str, metric: str, values: list[float]) -> dict:
    mean = sum(values) / len(values)
    std = (math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
           if len(values) > 1 else 0.0)
    return {'method': method, 'protocol': protocol, 'metric': metric, 'mean': mean, 'std': std,
            'n': len(values), 'seeds': list(range(len(values))), 'values': values}


# CVRL linear top1: values 50, 52, 57 -> mean 53, std sqrt(13) = 3.606 -> tolerance 7.21 (k=2).
# random_init linear top1: one seed -> std 0 -> tolerance = floor = 1.0.
BASE = [row('CVRL', 'linear', 'top1', [50.0, 52.0, 57.0]),
        row('random_init', 'linear', 'top1', [10.0])]


def write_board(path, rows, suite='smoke', device='cpu: A (AVX2), 2 threads',
                precision='float32'):
    atomic_write_json(path / 'leaderboard.json', {
        'suite': suite, 'rows': rows,
        'provenance': {'git': ['abc'], 'device': [device], 'precision': [precision]}})
    return path


@pytest.fixture
def ref(tmp_path):
    write_board(tmp_path / 'base', BASE)
    reference = tmp_path / 'reference' / 'smoke.json'
    assert main(['check', str(tmp_path / 'base'), '--reference', str(reference),
                 '--write-reference']) == 0
    return reference


def check(results, reference):
    return main(['check', str(results), '--reference', str(reference)])


def test_reference_format_and_tolerances(ref):
    data = read_json(ref)
    assert data['format'] == FORMAT and data['suite'] == 'smoke'
    assert data['tolerance_rule'] == {'k': 2.0, 'floor': 1.0, 'units': 'percentage points',
                                      'rule': 'tolerance = max(k * std, floor)'}
    cvrl, rand = data['cells']
    assert cvrl['mean'] == pytest.approx(53.0) and cvrl['n'] == 3
    assert cvrl['tolerance'] == pytest.approx(2 * math.sqrt(13.0))
    assert rand['std'] == 0.0 and rand['tolerance'] == 1.0


def test_identical_results_pass(tmp_path, ref, capsys):
    assert check(tmp_path / 'base', ref) == 0
    out = capsys.readouterr().out
    assert out.count('| ok') == 2 and '0 REGRESSION, 0 missing' in out


def test_regression_beyond_tolerance_fails(tmp_path, ref, capsys):
    # 53 - 7.22 = 45.78 < 53 - 7.211: beyond tolerance.
    write_board(tmp_path / 'now', [row('CVRL', 'linear', 'top1', [45.78]), BASE[1]])
    assert check(tmp_path / 'now', ref) == 1
    captured = capsys.readouterr()
    assert 'REGRESSION' in captured.out and 'FAILED: 1 regression' in captured.err
    # Within tolerance (drop of 7.0 < 7.21): passes.
    write_board(tmp_path / 'near', [row('CVRL', 'linear', 'top1', [46.0]), BASE[1]])
    assert check(tmp_path / 'near', ref) == 0
    # The floor applies to the one-seed cell: a drop of 1.5 points fails.
    write_board(tmp_path / 'floor', [BASE[0], row('random_init', 'linear', 'top1', [8.5])])
    assert check(tmp_path / 'floor', ref) == 1


def test_improvement_reported_and_passes(tmp_path, ref, capsys):
    write_board(tmp_path / 'better', [row('CVRL', 'linear', 'top1', [70.0]), BASE[1]])
    assert check(tmp_path / 'better', ref) == 0
    out = capsys.readouterr().out
    assert 'improved' in out
    assert (f'vssl-bench check {tmp_path / "better"} --reference {ref} --write-reference'
            in out)


def test_missing_cell_fails_and_new_cell_passes(tmp_path, ref, capsys):
    write_board(tmp_path / 'partial', [BASE[0]])
    assert check(tmp_path / 'partial', ref) == 1
    assert 'missing' in capsys.readouterr().out
    write_board(tmp_path / 'more', BASE + [row('TCLR', 'linear', 'top1', [40.0])])
    assert check(tmp_path / 'more', ref) == 0
    assert '| new' in capsys.readouterr().out


def test_reference_from_several_dirs_pools_values(tmp_path):
    write_board(tmp_path / 'a', [row('CVRL', 'linear', 'top1', [50.0, 52.0])])
    write_board(tmp_path / 'b', [row('CVRL', 'linear', 'top1', [57.0])])
    ref = build_reference([tmp_path / 'a', tmp_path / 'b'], k=1.5, floor=0.5)
    cell = ref['cells'][0]
    assert cell['values'] == [50.0, 52.0, 57.0] and cell['n'] == 3
    assert cell['tolerance'] == pytest.approx(1.5 * math.sqrt(13.0))
    write_board(tmp_path / 'c', [row('CVRL', 'linear', 'top1', [57.0])], suite='other')
    with pytest.raises(ValueError, match='different suites'):
        build_reference([tmp_path / 'a', tmp_path / 'c'])


def test_rewrite_keeps_k_and_floor(tmp_path):
    write_board(tmp_path / 'a', BASE)
    ref = tmp_path / 'r.json'
    assert main(['check', str(tmp_path / 'a'), '--reference', str(ref), '--write-reference',
                 '--k', '3', '--floor', '0.5']) == 0
    assert main(['check', str(tmp_path / 'a'), '--reference', str(ref),
                 '--write-reference']) == 0
    assert read_json(ref)['tolerance_rule']['k'] == 3.0
    assert read_json(ref)['tolerance_rule']['floor'] == 0.5


def test_usage_errors(tmp_path, ref, capsys):
    assert check(tmp_path / 'nothing', ref) == 2
    assert 'No leaderboard.json' in capsys.readouterr().err
    write_board(tmp_path / 'x', BASE)
    assert check(tmp_path / 'x', tmp_path / 'absent.json') == 2
    assert '--write-reference' in capsys.readouterr().err
    write_board(tmp_path / 'other', BASE, suite='other')
    assert check(tmp_path / 'other', ref) == 2
    assert "suite 'other'" in capsys.readouterr().err


def test_results_from_run_records(tmp_path):
    write_records(tmp_path)
    suite, rows, _ = load_results(tmp_path)
    assert suite == 'smoke' and len(rows) == 7
    verdicts = compare(build_reference([tmp_path]), rows)
    assert {v['verdict'] for v in verdicts} == {'ok'}


def test_reference_pools_an_existing_reference_with_new_results(tmp_path, ref, capsys):
    # The reference of BASE (machine A) pooled with a run of machine B: values appended in
    # source order, both machines named in the sources, the tolerance from the pooled spread.
    write_board(tmp_path / 'b', [row('CVRL', 'linear', 'top1', [45.0]),
                                 row('random_init', 'linear', 'top1', [12.0])],
                device='cpu: B (AVX512), 2 threads')
    assert main(['check', str(ref), str(tmp_path / 'b'), '--reference', str(ref),
                 '--write-reference']) == 0
    data = read_json(ref)
    cvrl, rand = data['cells']
    assert cvrl['values'] == [50.0, 52.0, 57.0, 45.0] and cvrl['mean'] == pytest.approx(51.0)
    assert cvrl['tolerance'] == pytest.approx(2 * math.sqrt(74 / 3))  # ddof=1
    assert rand['values'] == [10.0, 12.0] and rand['tolerance'] == pytest.approx(2 * math.sqrt(2))
    assert [s['device'] for s in data['sources']] == [['cpu: A (AVX2), 2 threads'],
                                                      ['cpu: B (AVX512), 2 threads']]
    assert [s['results_dir'] for s in data['sources']] == [str(tmp_path / 'base'),
                                                           str(tmp_path / 'b')]
    capsys.readouterr()
    # Machine B's run now passes (45 >= 51 - 9.93); before pooling it was a regression.
    assert check(tmp_path / 'b', ref) == 0
    assert 'note:' not in capsys.readouterr().out


def test_replace_protocols_rebuilds_only_their_cells(tmp_path, ref, capsys):
    # BASE's reference (machine A) plus a knn cell; then a new linear version measured on B:
    # the linear cells come from B alone, the knn cell and A's source stay, B's source says
    # what it measured.
    write_board(tmp_path / 'a', BASE + [row('CVRL', 'knn', 'top1', [40.0, 41.0])])
    assert main(['check', str(tmp_path / 'a'), '--reference', str(ref),
                 '--write-reference']) == 0
    write_board(tmp_path / 'b', [row('CVRL', 'linear', 'top1', [60.0, 62.0]),
                                 row('random_init', 'linear', 'top1', [20.0]),
                                 row('CVRL', 'knn', 'top1', [10.0])],
                device='cpu: B (AVX512), 2 threads')
    assert main(['check', str(tmp_path / 'b'), '--reference', str(ref), '--write-reference',
                 '--replace-protocols', 'linear']) == 0
    data = read_json(ref)
    cells = {(c['method'], c['protocol']): c for c in data['cells']}
    assert [(c['method'], c['protocol']) for c in data['cells']] == [
        ('CVRL', 'linear'), ('random_init', 'linear'), ('CVRL', 'knn')]
    assert cells['CVRL', 'linear']['values'] == [60.0, 62.0]
    assert cells['CVRL', 'linear']['tolerance'] == pytest.approx(2 * math.sqrt(2))
    assert cells['random_init', 'linear']['values'] == [20.0]
    assert cells['CVRL', 'knn']['values'] == [40.0, 41.0]  # kept, not B's 10
    assert [s.get('protocols') for s in data['sources']] == [None, ['linear']]
    capsys.readouterr()
    # errors: a protocol the sources lack; without --write-reference
    assert main(['check', str(tmp_path / 'b'), '--reference', str(ref), '--write-reference',
                 '--replace-protocols', 'retrieval']) == 2
    assert '--replace-protocols retrieval: no such cells' in capsys.readouterr().err
    assert main(['check', str(tmp_path / 'b'), '--reference', str(ref),
                 '--replace-protocols', 'linear']) == 2
    assert 'add --write-reference' in capsys.readouterr().err


def test_check_notes_a_machine_the_reference_was_not_measured_on(tmp_path, ref, capsys):
    write_board(tmp_path / 'c', BASE, device='cpu: C (AMX), 2 threads', precision='bfloat16')
    assert check(tmp_path / 'c', ref) == 0
    out = capsys.readouterr().out
    assert ('note: these results come from a device cpu: C (AMX), 2 threads (reference: '
            'cpu: A (AVX2), 2 threads) and precision bfloat16 (reference: float32)') in out
    assert check(tmp_path / 'base', ref) == 0
    assert 'note:' not in capsys.readouterr().out


@pytest.mark.parametrize('name', ['ci', 'ci_regression'])
def test_committed_references_cover_every_source_they_pool(name):
    """results/reference/README.md: every per-seed value a committed reference pools (each
    machine's seeds) passes the check against it, so unchanged code on any of those machines
    passes CI; and the sources say which machines those were."""
    from pathlib import Path
    ref = read_json(Path(__file__).resolve().parents[1] / 'results' / 'reference' / f'{name}.json')
    k, floor = ref['tolerance_rule']['k'], ref['tolerance_rule']['floor']
    assert (k, floor) == (3.0, 2.0)
    # protocols whose cells were rebuilt after a version change (--replace-protocols) hold the
    # seeds of the machines measured since: 3 or more
    replaced = {p for s in ref['sources'] for p in s.get('protocols', [])}
    for cell in ref['cells']:
        # 3 seeds on each of 2 machines, or more
        assert cell['n'] == len(cell['values']) >= (3 if cell['protocol'] in replaced else 6)
        assert min(cell['values']) >= cell['mean'] - max(k * cell['std'], floor), cell
    assert any('AVX512' in d for s in ref['sources'] for d in s.get('device', []))


def test_readme_check_examples_name_existing_references():
    """Every `vssl-bench check` line of the README and the user guide that checks (not
    --write-reference) names a reference file that is committed (the audit found
    results/reference/<suite>.json, which does not exist for the default suite)."""
    import shlex
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    lines = [line.split('#')[0] for doc in ('README.md', 'docs/guide.md')
             for line in (root / doc).read_text().splitlines()
             if line.startswith('vssl-bench check ')]
    checks = [shlex.split(line) for line in lines if '--write-reference' not in line]
    assert checks, lines
    for args in checks:
        assert '--reference' in args, args  # the default depends on the results' suite
        assert (root / args[args.index('--reference') + 1]).is_file(), args


def test_missing_reference_names_the_references_that_exist(tmp_path, ref, capsys):
    write_board(tmp_path / 'x', BASE)
    assert check(tmp_path / 'x', ref.parent / 'synthmotion.json') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(ref) in err[0] and '--write-reference' in err[0]
