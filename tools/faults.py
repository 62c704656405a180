"""Fault injection (`make faults`): kill a suite run at random moments, run it again, and check
that the interrupted run ends exactly where an uninterrupted one does.

    python -m tools.faults configs/suites/tiny.py --kills 20 --dir work_dirs/faults

1. An uninterrupted reference run (its own data, work dir and results) gives the duration T.
2. A second run, from nothing (data generation included), is killed ``--kills`` times with
   ``kill -9`` and started again after each kill; then it runs to the end. A rerun that ends
   before its kill is checked (3.) and the trial starts again from nothing, so that exactly
   ``--kills`` kills are done (or the check fails). The kills take turns
   (:data:`MODES`): the whole process group after a random delay (start-up time plus a uniform
   share of T); the main process alone after such a delay (its worker pools must die with it);
   the process group within 0.3 s after a resumable checkpoint appeared. Kill points therefore
   fall in every phase: data generation, frame caching, pretraining (right after checkpoints),
   feature extraction, evaluation and record writing.
3. Checks: every rerun is accepted (exit code 0 at the end, no refusal), every record of the
   reference exists and is equal (metrics, per-video hits, counts, config hash, steps; not wall
   times or provenance), no temporary file, lock file or resumable checkpoint is left, and no
   process of the killed runs survives.

Exit code 0 when every check passes, 1 otherwise (each failure on its own line). The kill
delays come from ``--seed``, so a failing trial is repeated with the same command.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

#: Record fields that must match between the interrupted and the uninterrupted run.
COMPARED = ('config_hash', 'metrics', 'per_video', 'protocol_version')
EVALUATION_COUNTS = ('num_train', 'num_test', 'num_failed')
#: How each kill is done, in turn: kill -9 of the process group after a random delay, of the
#: main process alone (its pool workers must follow it), of the group right after a resumable
#: checkpoint was written (the moment the audit found resume failing).
MODES = ('group', 'main', 'checkpoint')


REPO = Path(__file__).resolve().parents[1]


def _command(suite: str, methods: str | None) -> list[str]:
    """The run, with paths relative to its folder: the reference and the trial then have the
    same data root in their config hashes."""
    cmd = [sys.executable, '-m', 'vssl_bench.cli', 'run', str(Path(suite).resolve()),
           '--out', 'results', '--work-dir', 'work', '--data-root', 'data']
    return cmd + (['--methods', methods] if methods else [])


def _start(cmd: list[str], root: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get('PYTHONPATH')])]))
    with open(root / 'log.txt', 'ab') as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
                                start_new_session=True)


def _survivors(root: Path) -> list[int]:
    """PIDs of live processes working in ``root`` (the killed runs and their workers)."""
    found = []
    for proc in Path('/proc').glob('[0-9]*'):
        try:
            cwd = os.readlink(proc / 'cwd')
            state = (proc / 'stat').read_text().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if cwd.startswith(str(root)) and state != 'Z' and int(proc.name) != os.getpid():
            found.append(int(proc.name))
    return found


def _wait_for_checkpoint(proc: subprocess.Popen, work: Path, since: float,
                         deadline: float) -> None:
    """Return once ``proc`` has written a resumable checkpoint (``iter_*.pth``) after
    ``since``, once it has ended, or after ``deadline`` seconds."""
    end = time.time() + deadline
    while time.time() < end and proc.poll() is None:
        for path in work.glob('pretrain/*/seed*/iter_*.pth'):
            try:
                if path.stat().st_mtime >= since:
                    return
            except FileNotFoundError:
                continue
        time.sleep(0.05)


def _records(results: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((results / 'runs').rglob('*.json')):
        record = json.loads(path.read_text())
        kept = {k: record.get(k) for k in COMPARED}
        kept['evaluation'] = {k: record.get('evaluation', {}).get(k) for k in EVALUATION_COUNTS}
        kept['iters'] = record.get('pretrain', {}).get('iters')
        kept['pretrain_failed'] = record.get('pretrain', {}).get('num_failed')
        out[str(path.relative_to(results))] = kept
    return out


def _debris(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob('*') if p.is_file() and (
        '.tmp' in p.name or p.name in ('.vssl-bench.lock', '.vssl-bench.users')
        or p.name == 'last_checkpoint'
        or (p.name.startswith('iter_') and p.suffix == '.pth')))


def _check(ref: Path, trial: Path, label: str) -> tuple[list[str], int]:
    """Failures of a trial whose run ended (no surviving process, every record equal to the
    reference's, no debris) and the number of records compared."""
    failures = []
    time.sleep(2.0)  # workers of a killed main process get the kernel's signal at once
    survivors = _survivors(trial)
    if survivors:
        failures.append(f'processes of killed runs still alive: {survivors}')
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    expected, found = _records(ref / 'results'), _records(trial / 'results')
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            failures.append(f'record {name} missing after the interrupted run')
        elif name not in expected:
            failures.append(f'record {name} not in the reference run')
        elif found[name] != expected[name]:
            keys = [k for k in expected[name] if expected[name][k] != found[name].get(k)]
            failures.append(f'record {name} differs from the uninterrupted run in {keys}')
    failures += [f'debris left: {p}' for p in _debris(trial)]
    return [f'{label}: {f}' if label else f for f in failures], len(expected)


def run_faults(suite: str, directory: Path, kills: int, seed: int, methods: str | None,
               startup_s: float) -> list[str]:
    """Run the trial (module docstring); returns the failures (empty: passed).

    Exactly ``kills`` kills are done: when a rerun ends before its kill (the earlier kills left
    it little to do), that run is checked like the final one, the trial starts again from
    nothing and the kill is tried there. A fresh trial's kill comes before the duration of the
    shortest run from nothing seen so far (the reference's, or a fresh trial's that ended first:
    one-time costs can make the reference the slower), so it lands; more trials than
    ``kills + 2`` end the check as a failure.
    """
    rng = random.Random(seed)
    directory = Path(directory).resolve()
    shutil.rmtree(directory, ignore_errors=True)
    ref, trial = directory / 'reference', directory / 'trial'
    ref.mkdir(parents=True)
    trial.mkdir(parents=True)
    cmd = _command(suite, methods)
    start = time.monotonic()
    code = _start(cmd, ref).wait()
    duration = time.monotonic() - start
    if code != 0:
        return [f'the uninterrupted reference run failed (exit {code}): see {ref / "log.txt"}']
    print(f'faults: reference run {duration:.0f} s; {kills} kills follow', flush=True)
    log = trial / 'log.txt'
    failures, done, trials, fresh, compared = [], 0, 1, True, 0
    share = max(1.0, 2 * (duration - startup_s) / max(1, kills))
    while done < kills and not failures:
        mode = MODES[done % len(MODES)]
        delay = startup_s + rng.uniform(0, share)
        if fresh:  # a run from nothing lasts about the reference's duration: kill before it ends
            delay = min(delay, max(startup_s, 0.9 * duration))
        proc = _start(cmd, trial)
        began = time.time()
        if mode == 'checkpoint':  # right after a resumable checkpoint appears (or at delay*3)
            _wait_for_checkpoint(proc, trial / 'work', began,
                                 deadline=min(3 * delay, 0.9 * duration) if fresh else 3 * delay)
            time.sleep(rng.uniform(0, 0.3))
        try:
            proc.wait(timeout=max(0.0, delay - (time.time() - began))
                      if mode != 'checkpoint' else 0.001)
        except subprocess.TimeoutExpired:
            if mode == 'main':
                os.kill(proc.pid, signal.SIGKILL)
            else:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            done, fresh = done + 1, False
            print(f'faults: kill {done}/{kills} after {time.time() - began:.1f} s ({mode})',
                  flush=True)
            time.sleep(0.5)
            continue
        # The run ended before its kill: check it as a finished run, then start from nothing.
        if fresh:  # a run from nothing can be faster than the reference (its one-time costs)
            duration = min(duration, time.time() - began)
        label = f'trial {trials}'
        if proc.returncode != 0:
            failures.append(f'{label}: run exited {proc.returncode} before kill {done + 1}: '
                            f'{log}')
            break
        found, n = _check(ref, trial, label)
        failures, compared = failures + found, compared + n
        if trials >= kills + 2:
            failures.append(f'only {done} of {kills} kills landed in {trials} trials: the runs '
                            f'end too soon after a kill (see {log})')
        if failures:
            break
        print(f'faults: the run ended before kill {done + 1}/{kills} ({label} checked: '
              f'{n} records equal); starting trial {trials + 1} from scratch', flush=True)
        shutil.rmtree(trial)
        trial.mkdir()
        trials, fresh = trials + 1, True
    if done == kills and not failures:
        code = _start(cmd, trial).wait()
        if code != 0:
            failures.append(f'the final rerun failed (exit {code}): see {log}')
        found, n = _check(ref, trial, f'trial {trials}' if trials > 1 else '')
        failures, compared = failures + found, compared + n
    print(f'faults: {done} of {kills} kills in {trials} trial(s), {compared} records compared, '
          f'{len(failures)} problem(s)', flush=True)
    return failures  # not empty whenever fewer than `kills` kills were done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m tools.faults', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('suite', nargs='?', default='configs/suites/tiny.py')
    parser.add_argument('--kills', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0, help='seed of the kill delays')
    parser.add_argument('--methods', default=None, help='comma-separated subset of methods')
    parser.add_argument('--dir', default='work_dirs/faults', help='scratch folder (emptied)')
    parser.add_argument('--startup-s', type=float, default=6.0,
                        help='seconds a run needs before it does any work (imports)')
    args = parser.parse_args(argv)
    failures = run_faults(args.suite, Path(args.dir), args.kills, args.seed, args.methods,
                          args.startup_s)
    for failure in failures:
        print(f'FAILED: {failure}', file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
