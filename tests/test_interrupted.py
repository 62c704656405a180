"""Interrupted work leaves no debris: worker pools die with a killed parent, temporary files of
dead writers are removed by the next run; a results folder has one writer at a time."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vssl_bench.cli import main
from vssl_bench.core import lock
from vssl_bench.core.orphans import sweep_stale_temps

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'

# Slowed down so that the kill lands while the pool works (a worker would need 30 s to notice
# its parent's death by itself); the workers are forked, so they run the patched function too.
GENERATE = '''
import sys, time
import vssl_bench.data.synthmotion as sm
render = sm.render_video
sm.render_video = lambda *a, **k: (time.sleep(30), render(*a, **k))[1]
sm.generate(sys.argv[1], scale='tiny', seed=0, workers=2, progress=False)
'''
CACHE = '''
import sys, time
from pathlib import Path
import vssl_bench.data.video as video
decode = video.decode_video
video.decode_video = lambda p: (time.sleep(30), decode(p))[1]
paths = sorted(str(p) for p in Path(sys.argv[1]).rglob('*.mp4'))
video.FrameStore(paths, cache_dir=sys.argv[2], num_workers=2, progress=False)
'''


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError:
        return False
    return state != 'Z'


def _gone(workers: list[int]) -> bool:
    """True if every worker ended within 10 s; otherwise kills them (a failing test leaves no
    orphans either) and returns False."""
    if _wait(lambda: not any(_alive(pid) for pid in workers), timeout=10):
        return True
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return False


def _wait(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _start_and_kill(script: str, args: list[str], ready) -> list[int]:
    """Run ``script``, SIGKILL it (the parent alone) once ``ready()`` and its two pool workers
    are there; return the workers' PIDs."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, '-c', script, *args], env=env, cwd=ROOT)
    try:
        assert _wait(lambda: len(_children(proc.pid)) >= 2 and ready()), 'never started'
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    return workers


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc')
def test_killed_generation_leaves_no_worker_and_reruns_clean(tmp_path):
    root = tmp_path / 'synth'
    workers = _start_and_kill(GENERATE, [str(root)],
                              lambda: (root / 'train.txt').is_file())
    assert _gone(workers), 'pool workers outlived their killed parent'
    assert not (root / 'meta.json').exists()
    from vssl_bench.data.synthmotion import generate
    generate(root, scale='tiny', seed=0, workers=1, progress=False)
    assert (root / 'meta.json').is_file()
    debris = [p for p in root.rglob('*') if '.tmp' in p.name or p.name == lock.LOCK_NAME]
    assert debris == []


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc')
def test_killed_frame_caching_leaves_no_worker_and_no_temp(tmp_path):
    from vssl_bench.data.synthmotion import generate
    from vssl_bench.data.video import FrameStore
    data = generate(tmp_path / 'synth', scale='tiny', seed=0, workers=1, progress=False)
    cache = tmp_path / 'cache'
    workers = _start_and_kill(CACHE, [str(data / 'videos' / 'test'), str(cache)],
                              lambda: any(cache.rglob('frames.npy.tmp-*')))
    assert _gone(workers), 'pool workers outlived their killed parent'
    assert list(cache.rglob('frames.npy.tmp-*'))  # the debris the kill left
    paths = sorted(str(p) for p in (data / 'videos' / 'test').rglob('*.mp4'))
    store = FrameStore(paths, cache_dir=str(cache), num_workers=1, progress=False)
    assert len(store) == len(paths) and not store.failed
    assert [p.name for p in cache.rglob('*') if '.tmp' in p.name] == []


def test_sweep_removes_only_temps_of_dead_writers(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / 'a' / f'frames.npy.tmp-{dead}'
    mine = tmp_path / f'.x.json.tmp-{os.getpid()}.abc'
    other = tmp_path / 'a' / f'.record.json.tmp-{dead}.k2j3'
    keep = tmp_path / 'notes.tmp-old.txt'
    for path in (stale, mine, other, keep):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('x')
    assert sorted(sweep_stale_temps(tmp_path)) == sorted([stale, other])
    assert mine.exists() and keep.exists()


def test_second_holder_is_refused_with_the_holders_pid(tmp_path):
    with lock.hold(tmp_path / 'out'):
        with pytest.raises(lock.FolderLocked, match=f'PID {os.getpid()}'):
            with lock.hold(tmp_path / 'out'):
                pass
    assert not (tmp_path / 'out' / lock.LOCK_NAME).exists()  # released and removed
    with lock.hold(tmp_path / 'out'):  # free again
        pass


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = int(subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                              capture_output=True, text=True, check=True).stdout)
    (tmp_path / lock.LOCK_NAME).write_text(json.dumps(dict(pid=dead, argv=['vssl-bench'])))
    with lock.hold(tmp_path) as path:
        assert json.loads(path.read_text())['pid'] == os.getpid()


def test_run_into_a_locked_results_folder_is_refused_before_any_work(tmp_path, capsys):
    out, data = tmp_path / 'results', tmp_path / 'data'
    with lock.hold(out):
        code = main(['run', str(TINY), '--out', str(out), '--data-root', str(data),
                     '--work-dir', str(tmp_path / 'work')])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and f'PID {os.getpid()}' in err[0] and str(out) in err[0]
    assert not data.exists()  # refused before generating data


def test_concurrent_generation_into_one_folder(tmp_path):
    """Two processes generating the same missing data set: one waits for the other; both
    succeed (the audit saw one die renaming a video the other had moved)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = ('import sys; from vssl_bench.data.synthmotion import generate; '
              "generate(sys.argv[1], scale='tiny', seed=0, workers=1, progress=False)")
    procs = [subprocess.Popen([sys.executable, '-c', script, str(tmp_path / 'synth')], env=env,
                              cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    assert (tmp_path / 'synth' / 'meta.json').is_file()


def test_eval_into_a_locked_results_folder_is_refused_before_any_work(tmp_path, capsys):
    """`vssl-bench eval` writes a row into a suite's results: it takes the same lock as run."""
    out, data = tmp_path / 'results', tmp_path / 'data'
    checkpoint = tmp_path / 'weights.pth'
    checkpoint.write_bytes(b'not read: the lock is taken first')
    with lock.hold(out):
        code = main(['eval', str(checkpoint), '--suite', str(TINY), '--out', str(out),
                     '--data-root', str(data), '--work-dir', str(tmp_path / 'work')])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and f'PID {os.getpid()}' in err[0] and str(out) in err[0]
    assert not data.exists()  # refused before generating data
