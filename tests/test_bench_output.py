"""`make bench` and a plain `vssl-bench run` never write into the committed results/: their
records go to the git-ignored bench_results/<suite>, so `make bench` then `make test` (which
reads the committed results) passes and leaves the clone clean."""
from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from vssl_bench.cli import main
from vssl_bench.core.results_dir import default_results

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'


def _git(*args: str) -> subprocess.CompletedProcess:
    if shutil.which('git') is None or not (ROOT / '.git').exists():
        pytest.skip('not a git checkout')
    return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True)


def _committed_or_not_ignored(folder: Path) -> list[str]:
    """Why git would see records written into ``folder`` (empty: it would not)."""
    why = []
    tracked = _git('ls-files', '--', str(folder)).stdout.split()
    if tracked:
        why.append(f'{len(tracked)} committed file(s), e.g. {tracked[0]}')
    record = folder / 'runs' / 'CVRL' / 'seed0' / 'linear.json'
    if _git('check-ignore', '-q', str(record)).returncode != 0:
        why.append(f'{record} is not git-ignored')
    return why


def _bench_out() -> Path:
    """The results folder of `make bench`'s `vssl-bench run` command (make -n: printed only)."""
    if shutil.which('make') is None:
        pytest.skip('make not installed')
    dry = subprocess.run(['make', '-n', '-B', 'bench'], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    runs = [shlex.split(line) for line in dry.splitlines() if ' run ' in line
            and 'vssl-bench' in line]
    assert len(runs) == 1, dry
    args = runs[0]
    if '--out' in args:
        return Path(args[args.index('--out') + 1])
    suite = args[args.index('run') + 1]
    name = Path(suite).stem  # configs/suites/synthmotion.py names suite 'synthmotion'
    return default_results(name)


def test_make_bench_writes_into_an_ignored_folder_not_the_committed_results():
    out = _bench_out()
    assert _committed_or_not_ignored(out) == []
    assert not (ROOT / out).resolve().is_relative_to(ROOT / 'results')


def test_default_results_folder_is_git_ignored_for_every_suite():
    for name in ('synthmotion', 'synthmotion_standard', 'ci'):
        assert _committed_or_not_ignored(default_results(name)) == [], name


def test_run_without_out_uses_the_default_results_folder(monkeypatch, tmp_path):
    """The CLI's default --out, as `make bench` relies on (run_suite is replaced: no work)."""
    from vssl_bench.harness import suite as suite_module
    seen = {}

    def fake_run_suite(suite, out, **kwargs):
        seen['out'] = out
        return None, []

    monkeypatch.setattr(suite_module, 'run_suite', fake_run_suite)
    monkeypatch.chdir(tmp_path)
    assert main(['run', str(TINY), '--data-root', str(tmp_path / 'data'),
                 '--work-dir', str(tmp_path / 'work')]) == 0
    assert seen['out'] == default_results('tiny')
    assert not (tmp_path / 'results').exists()


def test_readme_says_where_make_bench_writes():
    guide = (ROOT / 'docs/guide.md').read_text()
    assert 'results in bench_results/synthmotion,' in guide  # the console sample
    for text in (guide, (ROOT / 'README.md').read_text()):
        assert 'results in results/synthmotion' not in text
        assert 'bench_results/synthmotion' in text


def test_setup_can_take_torch_from_another_index(tmp_path):
    """`make setup TORCH_INDEX=URL` installs the pinned torch and torchvision from URL (a CPU
    build) before the project; without it, PyPI's alone."""
    import subprocess

    def commands(*extra: str) -> str:
        return subprocess.run(['make', '-n', 'setup', f'VENV={tmp_path / "venv"}', *extra],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout

    cpu = commands('TORCH_INDEX=https://download.pytorch.org/whl/cpu')
    first, project = cpu.index('--index-url https://download.pytorch.org/whl/cpu torch '
                               'torchvision'), cpu.index("-e '.[test]'")
    assert first < project and cpu.count('-c constraints.txt') == 2
    assert '--index-url' not in commands()
