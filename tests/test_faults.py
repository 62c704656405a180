"""`python -m tools.faults` does exactly the kills it announces: a rerun that ends before
its kill is checked and the trial starts again from nothing (the audit saw 7 of 20 kills and
'0 problems', exit 0). The suite run is replaced by a stand-in that takes 3 s from nothing and
finishes at once when resumed, so every kill after the first of a trial comes too late."""
from __future__ import annotations

import re
import sys

from tools import faults

# From nothing: a resumable checkpoint after 0.2 s, the record after 3 s. Resumed: the record
# at once. Like a suite run, it leaves no checkpoint behind.
STAND_IN = '''
import json, pathlib, time
work = pathlib.Path('work')
work.mkdir(exist_ok=True)
if not (work / 'state').exists():
    (work / 'state').write_text('started')
    time.sleep(0.2)
    ckpt = work / 'pretrain' / 'M-x' / 'seed0'
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / 'iter_1.pth').write_text('c')
    time.sleep(2.8)
for path in work.glob('pretrain/*/seed*/iter_*.pth'):
    path.unlink()
runs = pathlib.Path('results/runs/M/seed0')
runs.mkdir(parents=True, exist_ok=True)
(runs / 'linear.json').write_text(json.dumps({'config_hash': 'h', 'metrics': {'top1': 1.0}}))
'''


def test_every_announced_kill_is_done(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(faults, '_command', lambda suite, methods: [sys.executable, '-c',
                                                                    STAND_IN])
    failures = faults.run_faults('unused', tmp_path / 'faults', kills=3, seed=0, methods=None,
                                 startup_s=0.5)
    out = capsys.readouterr().out
    assert failures == []
    kills = re.findall(r'^faults: kill (\d)/3 after .* \((group|main|checkpoint)\)$', out, re.M)
    assert kills == [('1', 'group'), ('2', 'main'), ('3', 'checkpoint')], out
    assert 'from scratch' in out  # the resumed runs ended before kills 2 and 3
    assert out.strip().splitlines()[-1].startswith('faults: 3 of 3 kills in 3 trial(s), ')


def test_a_run_that_fails_before_its_kill_is_a_failure(tmp_path, monkeypatch, capsys):
    """A rerun that exits non-zero before its kill fails the check (no new trial hides it)."""
    fails_in_trial = STAND_IN + ("\nimport sys\n"
                                 "sys.exit(3 if pathlib.Path.cwd().name == 'trial' else 0)")
    monkeypatch.setattr(faults, '_command', lambda suite, methods: [sys.executable, '-c',
                                                                    fails_in_trial])
    failures = faults.run_faults('unused', tmp_path / 'faults', kills=2, seed=0, methods=None,
                                 startup_s=0.5)
    assert len(failures) == 1 and 'exited 3 before kill 2' in failures[0], failures
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(
        'faults: 1 of 2 kills in 1 trial(s), ')
