"""Resumable pretraining checkpoints that survive a kill at any moment, and resume that
reproduces the uninterrupted run bit for bit.

mmengine's ``CheckpointHook`` deletes the previous checkpoint, then writes the new one in place,
then rewrites the ``last_checkpoint`` pointer: a kill in between leaves a pointer to a deleted
file (or to a half-written one) and every rerun fails. :class:`AtomicCheckpointHook` orders the
steps so that the pointer always names a complete file: new checkpoint to a temporary name,
renamed; pointer rewritten atomically; only then the older checkpoints removed.
:func:`prepare_resume` runs before every (re)start and repairs what an older version or a
damaged disk may have left: a pointer to a missing or unreadable checkpoint falls back to the
newest complete one, or to a clean start, with a warning.

:class:`ResumeRngHook` makes resume bit-identical: mmengine restores weights, optimiser, iteration
and message hub but not the global random state. Methods that draw from torch's global RNG in
their training step (VCOP's clip permutations and dropout) then continued from another state
after a resume. The hook stores the global RNG states in every checkpoint and puts them back
right after mmengine has replayed the data loader up to the resumed iteration, i.e. exactly
where the uninterrupted run stood before reading its next batch.

:func:`prune` removes the resumable checkpoints once the final weights and stats exist.
"""
from __future__ import annotations

import os
import random
import re
import zipfile
from pathlib import Path

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from vssl_bench.core.io import atomic_write_text, read_json, tmp_suffix

POINTER = 'last_checkpoint'
_CKPT = re.compile(r'^iter_(\d+)\.pth$')


def is_complete(path: Path) -> bool:
    """True if ``path`` is a whole torch checkpoint (a zip archive whose members all pass their
    CRC check): a truncated or half-written file is not."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def checkpoints(work_dir: Path) -> list[Path]:
    """Resumable checkpoints (``iter_<n>.pth``) in ``work_dir``, oldest first."""
    found = [(int(m.group(1)), p) for p in Path(work_dir).glob('iter_*.pth')
             if (m := _CKPT.match(p.name))]
    return [p for _, p in sorted(found)]


def prepare_resume(work_dir: Path) -> Path | None:
    """Make ``work_dir/last_checkpoint`` name a complete checkpoint, or remove it; return the
    checkpoint a resumed run will start from (None: a clean start).

    A pointer to a missing, truncated or unreadable file falls back to the newest complete
    ``iter_*.pth`` (a warning names both); without one the run restarts from step 0. Incomplete
    checkpoint files are deleted.
    """
    work_dir = Path(work_dir)
    pointer = work_dir / POINTER
    named = None
    if pointer.is_file():
        text = pointer.read_text().strip()
        named = Path(text) if text else None
        if named is not None and not named.is_absolute():
            named = work_dir / named
        if named is not None and named.parent.resolve() != work_dir.resolve():
            named = work_dir / named.name  # the work dir moved: look for the file here
    if named is not None and named.is_file() and is_complete(named):
        if pointer.read_text().strip() != str(named):
            atomic_write_text(pointer, str(named))
        return named
    complete = []
    for path in checkpoints(work_dir):
        if is_complete(path):
            complete.append(path)
        else:
            print_log(f'removing incomplete checkpoint {path}', logger='current', level=30)
            path.unlink(missing_ok=True)
    if complete:
        chosen = complete[-1]
        if named is not None:
            print_log(f'{pointer} names {named}, which is missing or incomplete: resuming from '
                      f'{chosen.name} instead', logger='current', level=30)
        atomic_write_text(pointer, str(chosen))
        return chosen
    if named is not None:
        print_log(f'{pointer} names {named}, which is missing or incomplete, and no other '
                  'complete checkpoint exists: training restarts from step 0', logger='current',
                  level=30)
    pointer.unlink(missing_ok=True)
    return None


def finished_stats(weights: Path, stats: Path) -> dict | None:
    """The stats of a finished pretraining (``weights`` and ``stats`` both present and readable),
    or None. Weights without readable stats are an interrupted finish (or a damaged file): the
    weights are removed with a warning, so the run resumes or retrains instead of failing."""
    if not weights.is_file():
        return None
    try:
        found = read_json(stats)
        if not isinstance(found, dict):
            raise ValueError('not a JSON object')
        return found
    except (OSError, ValueError) as exc:
        print_log(f'{weights} has no readable {stats.name} ({exc}): training that run again '
                  '(from its last checkpoint if any)', logger='current', level=30)
        weights.unlink(missing_ok=True)
        return None


def prune(work_dir: Path) -> int:
    """Remove the resumable checkpoints and their pointer (call once the final weights and stats
    are written); returns the bytes freed."""
    freed = 0
    work_dir = Path(work_dir)
    for path in [*checkpoints(work_dir), work_dir / POINTER]:
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass
    return freed


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (iteration-based, local files) whose pointer never names a missing or
    partial file: write the new checkpoint under a temporary name and rename it, rewrite
    ``last_checkpoint`` atomically, and only then delete the checkpoints beyond
    ``max_keep_ckpts`` (and any other ``iter_*.pth`` left in the folder)."""

    def _save_checkpoint_with_step(self, runner, step, meta):
        name = self.filename_tmpl.format(step)
        final = Path(self.out_dir) / name
        tmp_name = name + tmp_suffix()
        self.last_ckpt = str(final)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids or self.keep_ckpt_ids[-1] != step):
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        try:
            runner.save_checkpoint(self.out_dir, tmp_name, self.file_client_args,
                                   save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler, meta=meta,
                                   by_epoch=self.by_epoch, backend_args=self.backend_args,
                                   **self.args)
        except BaseException:  # a full disk, an interrupt: no partial temporary file is left
            (Path(self.out_dir) / tmp_name).unlink(missing_ok=True)
            raise
        if not is_main_process():
            return
        os.replace(Path(self.out_dir) / tmp_name, final)
        atomic_write_text(Path(runner.work_dir) / POINTER, self.last_ckpt)
        if self.max_keep_ckpts > 0:  # keep_ckpt_ids is a deque of maxlen max_keep_ckpts
            keep = {Path(self.out_dir) / self.filename_tmpl.format(k) for k in self.keep_ckpt_ids}
            for path in checkpoints(Path(self.out_dir)):
                if path not in keep:
                    path.unlink(missing_ok=True)


def rng_state() -> dict:
    """The global random states a training step may draw from (torch CPU and CUDA, numpy,
    Python), as tensors and plain values (loadable with ``weights_only=True``)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(torch=torch.get_rng_state(),
                 numpy=dict(kind=kind, keys=torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                            pos=int(pos), has_gauss=int(has_gauss), gauss=float(gauss)),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    n = state['numpy']
    np.random.set_state((n['kind'], n['keys'].numpy().astype(np.uint32), n['pos'],
                         n['has_gauss'], n['gauss']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))


class _RestoreAfter:
    """Wraps the train loop's data iterator: after ``skip`` batches (mmengine's replay of the
    data already trained on) the global RNG is set to ``state``, before the next batch is read."""

    def __init__(self, inner, skip: int, state: dict) -> None:
        self._inner, self._left, self._state = inner, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self._left == 0 and self._state is not None:
            set_rng_state(self._state)
            self._state = None
        batch = next(self._inner)
        self._left -= 1
        return batch

    def __getattr__(self, name):  # _iterator, _dataloader, ... of mmengine's iterator
        return getattr(self._inner, name)


@HOOKS.register_module()
class ResumeRngHook(Hook):
    """Saves the global RNG states into every checkpoint and restores them on resume at the
    point where the uninterrupted run read its next batch (see the module docstring)."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending: dict | None = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_epoch(self, runner) -> None:
        loop = runner.train_loop
        if self._pending is None or not hasattr(loop, 'dataloader_iterator'):
            return
        loop.dataloader_iterator = _RestoreAfter(loop.dataloader_iterator, loop.iter,
                                                 self._pending)
        self._pending = None
