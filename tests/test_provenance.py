"""git_revision: '-dirty' for changed tracked sources, not for suite outputs under results/."""
import subprocess

import pytest

from benchmark.provenance import git_revision


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
