"""A data loader that reads its batches in the training process and gives exactly the batches,
and leaves the training process in exactly the random state, of a loader with one worker.

On a 2-core CPU a loader worker process competes with the training step's two threads (the
step in a training loop ran 1.3x as long as alone, results/throughput/). Reading the batches
in the training process instead saves the process, but a plain ``num_workers=0`` loader draws
its augmentation from the training process's random state, so every weight trained before
would change. :class:`InProcessLoader` replays the worker instead:

- the worker's random state (torch, numpy and ``random``, seeded as PyTorch's worker loop
  and the loader's ``worker_init_fn`` seed them) is swapped in around every batch and
  swapped out afterwards, so the data set draws what the worker would have drawn and the
  training process's own random state is left as the worker left it;
- the batch is read with one torch thread, as in a worker;
- the training process draws a worker's base seed once per worker start: at every epoch
  for a non-persistent worker, at the first one only for a persistent worker (a later epoch's
  draw is undone).

So a run gives the same numbers bit for bit whichever loader reads its data
(tests/test_in_process_loader.py checks the batches, the random state and whole pretrainings).
Only one worker is replayed: with more, PyTorch hands batches to workers in turn and each
keeps its own state.
"""
from __future__ import annotations

import random
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.data._utils.worker import _generate_state


class _WorkerState:
    """The random state and thread count of one replayed worker process (worker 0)."""

    def __init__(self, base_seed: int, worker_init_fn: Callable[[int], Any] | None) -> None:
        # What torch.utils.data's worker loop does before the first item, then the loader's
        # worker_init_fn (mmengine's reseeds torch, numpy and random from the run's seed).
        with self._swapped_out():
            random.seed(base_seed)
            torch.manual_seed(base_seed)
            np.random.seed(_generate_state(base_seed, 0))
            if worker_init_fn is not None:
                worker_init_fn(0)
            self._state = self._capture()

    @staticmethod
    def _capture() -> tuple:
        return torch.get_rng_state(), np.random.get_state(), random.getstate()

    @staticmethod
    def _restore(state: tuple) -> None:
        torch.set_rng_state(state[0])
        np.random.set_state(state[1])
        random.setstate(state[2])

    class _swapped_out:
        """Keeps the training process's random state and thread count across the block."""

        def __enter__(self) -> None:
            self.main = _WorkerState._capture()
            self.threads = torch.get_num_threads()

        def __exit__(self, *exc: Any) -> None:
            _WorkerState._restore(self.main)
            torch.set_num_threads(self.threads)

    def run(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` as the worker would run it: its random state, one torch thread."""
        with self._swapped_out():
            self._restore(self._state)
            torch.set_num_threads(1)
            try:
                return fn()
            finally:
                self._state = self._capture()


class _Batches:
    """One epoch's batches, each read in the replayed worker's state."""

    def __init__(self, inner: Iterator, worker: _WorkerState) -> None:
        self._inner, self._worker = inner, worker

    def __iter__(self) -> _Batches:
        return self

    def __next__(self) -> Any:
        return self._worker.run(lambda: next(self._inner))

    def __len__(self) -> int:
        return len(self._inner)


class InProcessLoader(DataLoader):
    """A :class:`~torch.utils.data.DataLoader` of ``num_workers=0`` that replays one worker
    (see the module doc). Build it with :meth:`replaying` from the loader it stands in for."""

    def __init__(self, *args: Any, replay_init_fn: Callable[[int], Any] | None = None,
                 persistent: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._replay_init_fn = replay_init_fn
        self._persistent = persistent
        self._worker: _WorkerState | None = None

    @classmethod
    def replaying(cls, loader: DataLoader) -> InProcessLoader:
        """The in-process twin of ``loader`` (same data set, sampler, batches and collate
        function), which must have exactly one worker."""
        if loader.num_workers != 1:
            raise ValueError(f'InProcessLoader replays one worker; this loader has '
                             f'{loader.num_workers}')
        batching = (dict(batch_size=loader.batch_size, drop_last=loader.drop_last,
                         sampler=loader.sampler) if loader.batch_size is not None
                    else dict(batch_sampler=loader.batch_sampler))
        return cls(loader.dataset, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                   replay_init_fn=loader.worker_init_fn,
                   persistent=loader.persistent_workers, **batching)

    def __iter__(self) -> _Batches:
        starts_worker = self._worker is None or not self._persistent
        main = torch.get_rng_state()
        inner = super().__iter__()  # draws the base seed of a worker start
        if starts_worker:
            self._worker = _WorkerState(inner._base_seed, self._replay_init_fn)
        else:  # a persistent worker kept running: no new base seed was drawn
            torch.set_rng_state(main)
        return _Batches(inner, self._worker)
