"""`vssl-bench clean`: what goes (resumable checkpoints of finished runs, temp files of killed
runs, stale frame caches, and on request caches and weights) and what never goes (records)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_videos as write_videos
from vssl_bench.cli import main
from vssl_bench.data.video import FrameStore


def _run(root: Path, name: str, finished: bool, kind: str = 'pretrain') -> Path:
    run = root / kind / name / 'seed0'
    run.mkdir(parents=True)
    (run / 'iter_4.pth').write_bytes(b'c' * 1000)
    (run / 'last_checkpoint').write_text(str(run / 'iter_4.pth'))
    if finished:
        (run / 'final_weights.pth').write_bytes(b'w' * 100)
        (run / 'pretrain_stats.json').write_text('{"iters": 4}')
    return run


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True, check=True).stdout)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob('*') if p.is_file()}


def _setup(tmp_path):
    work, data, results = tmp_path / 'work', tmp_path / 'data', tmp_path / 'results'
    done, running = _run(work, 'CVRL-aaaa', True), _run(work, 'TCLR-bbbb', False)
    (work / 'feature_cache').mkdir()
    (work / 'feature_cache' / 'train-x.npz').write_bytes(b'f')
    (done / f'final_weights.pth.tmp-{_dead_pid()}').write_bytes(b'partial')
    ann = write_videos(data, n=2)
    paths = [str(data / line.split()[0]) for line in ann.read_text().splitlines()]
    FrameStore(paths, cache_dir=str(data / '.frame_cache'), num_workers=1, progress=False)
    (data / '.frame_cache' / 'incomplete').mkdir()
    (data / '.frame_cache' / 'incomplete' / f'frames.npy.tmp-{_dead_pid()}').write_bytes(b'x')
    (results / 'runs' / 'CVRL' / 'seed0').mkdir(parents=True)
    (results / 'runs' / 'CVRL' / 'seed0' / 'linear.json').write_text('{}')
    return work, data, results, done, running


def test_default_clean_keeps_weights_records_and_unfinished_runs(tmp_path, capsys):
    work, data, results, done, running = _setup(tmp_path)
    records = _tree(results)
    assert main(['clean', '--work-dir', str(work), '--data-root', str(data)]) == 0
    assert 'freed' in capsys.readouterr().out
    assert sorted(p.name for p in done.iterdir()) == ['final_weights.pth', 'pretrain_stats.json']
    assert sorted(p.name for p in running.iterdir()) == ['iter_4.pth', 'last_checkpoint']
    assert (work / 'feature_cache' / 'train-x.npz').is_file()
    caches = sorted(p.name for p in (data / '.frame_cache').iterdir())
    assert len(caches) == 1 and (data / '.frame_cache' / caches[0] / 'COMPLETE').exists()
    assert _tree(results) == records


def test_changed_videos_make_their_frame_cache_stale(tmp_path):
    work, data, _, _, _ = _setup(tmp_path)
    video = next(data.rglob('*.mp4'))
    os.utime(video, ns=(1, 1))  # rewritten: another fingerprint, the old cache is never read
    main(['clean', '--work-dir', str(work), '--data-root', str(data)])
    assert list((data / '.frame_cache').iterdir()) == []


def test_dry_run_removes_nothing(tmp_path, capsys):
    work, data, results, _, _ = _setup(tmp_path)
    before = _tree(tmp_path)
    main(['clean', '--work-dir', str(work), '--data-root', str(data), '--dry-run', '--weights'])
    assert 'would remove' in capsys.readouterr().out
    assert _tree(tmp_path) == before


def test_options_remove_caches_and_weights(tmp_path):
    work, data, results, done, running = _setup(tmp_path)
    records = _tree(results)
    main(['clean', '--work-dir', str(work), '--data-root', str(data), '--features', '--frames',
          '--weights'])
    assert list(done.iterdir()) == []
    assert not (work / 'feature_cache').exists() and not (data / '.frame_cache').exists()
    assert (running / 'iter_4.pth').is_file()  # resumable work is never thrown away
    assert _tree(results) == records


def test_older_than_removes_untouched_work_dirs(tmp_path):
    work, data, _, done, running = _setup(tmp_path)
    for path in [*running.rglob('*'), running]:
        os.utime(path, (0, 0))
    main(['clean', '--work-dir', str(work), '--older-than', '30'])
    assert not running.exists() and done.exists()


def test_older_than_must_be_positive(tmp_path, capsys):
    """`--older-than -1` (or 0, nan) would remove every work dir, final weights included: refused
    with one line before anything goes."""
    work, data, _, done, running = _setup(tmp_path)
    before = _tree(tmp_path)
    for days in ('-1', '0', 'nan'):
        with pytest.raises(SystemExit) as exit_:  # refused while parsing the command line
            main(['clean', '--work-dir', str(work), '--older-than', days])
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f'--older-than {days}' in err[0] and '--weights' in err[0]
    assert _tree(tmp_path) == before


def test_train_work_dirs_are_cleaned_like_suite_runs(tmp_path, capsys):
    """`vssl-bench train` writes work_dirs/train/<method>/seed<n>: its resumable checkpoints
    go once it finished, --dry-run lists them, --older-than and --weights apply."""
    work = tmp_path / 'work'
    done, old = _run(work, 'CVRL', True, 'train'), _run(work, 'TCLR', False, 'train')
    main(['clean', '--work-dir', str(work), '--dry-run'])
    assert f'would remove {done / "iter_4.pth"}' in capsys.readouterr().out
    main(['clean', '--work-dir', str(work)])
    assert sorted(p.name for p in done.iterdir()) == ['final_weights.pth', 'pretrain_stats.json']
    assert (old / 'iter_4.pth').is_file()  # unfinished: resumable
    for path in [*old.rglob('*'), old]:
        os.utime(path, (0, 0))
    main(['clean', '--work-dir', str(work), '--older-than', '30', '--weights'])
    assert not old.exists() and list(done.iterdir()) == []
