"""git_revision: '-dirty' for changed tracked sources, not for suite outputs under results/."""
import subprocess

import pytest

from vssl_bench.core.provenance import git_revision


def _git(repo, *args):
    subprocess.run(['git', *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture()
def repo(tmp_path):
    _git(tmp_path, 'init', '-q')
    _git(tmp_path, 'config', 'user.email', 'test@example.com')
    _git(tmp_path, 'config', 'user.name', 'test')
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'code.py').write_text('x = 1\n')
    (tmp_path / 'results' / 'suite').mkdir(parents=True)
    (tmp_path / 'results' / 'suite' / 'leaderboard.md').write_text('old\n')
    _git(tmp_path, 'add', '.')
    _git(tmp_path, 'commit', '-q', '-m', 'init')
    return tmp_path


def test_clean_checkout_is_not_dirty(repo):
    rev = git_revision(repo / 'pkg')
    assert len(rev) == 12 and not rev.endswith('-dirty')


def test_changed_results_do_not_make_it_dirty(repo):
    (repo / 'results' / 'suite' / 'leaderboard.md').write_text('new\n')
    assert not git_revision(repo / 'pkg').endswith('-dirty')


def test_changed_source_makes_it_dirty_from_any_folder(repo):
    (repo / 'pkg' / 'code.py').write_text('x = 2\n')
    assert git_revision(repo / 'pkg').endswith('-dirty')
    assert git_revision(repo / 'results').endswith('-dirty')


def test_outside_a_checkout_is_unknown(tmp_path):
    assert git_revision(tmp_path) == 'unknown'


def test_cpu_name_reads_the_model_and_the_instruction_set(tmp_path, monkeypatch):
    import platform

    import torch

    from vssl_bench.core.provenance import cpu_name
    monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability', lambda: 'AVX512')
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\n'
                    'flags\t\t: fpu avx2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9R14\n')
    assert cpu_name(info) == 'AMD EPYC 9R14 (AVX512)'
    # no cpuinfo (macOS, Windows): the platform's name
    monkeypatch.setattr(platform, 'processor', lambda: 'arm')
    assert cpu_name(tmp_path / 'missing') == 'arm (AVX512)'
