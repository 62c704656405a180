"""What a suite prints: one line per stage of each (method, seed) and a suite-level progress bar
with an ETA (rich; plain lines when stderr is not a terminal, e.g. in CI).

mmengine's own logs (environment, full config, loss lines) go to each run's work dir only;
``--verbose`` (:func:`set_verbose`) shows them on the console again. The harness's
``print_log`` messages follow the same rule: in the log file always, on the console when verbose.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator

from mmengine.logging import MMLogger
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_state = {'verbose': False, 'progress': None}


def set_verbose(verbose: bool) -> None:
    """Show mmengine's logs on the console (True) or keep them in the work dirs' log files."""
    _state['verbose'] = bool(verbose)
    quiet_console(MMLogger.get_current_instance())


def verbose() -> bool:
    return _state['verbose']


def quiet_console(logger: logging.Logger) -> None:
    """Unless verbose, let ``logger``'s console handler through only errors; its file handler
    (the run's log in its work dir) keeps everything."""
    for handler in logger.handlers:
        if type(handler) is logging.StreamHandler:  # not its FileHandler (a subclass)
            handler.setLevel(logging.DEBUG if _state['verbose'] else logging.ERROR)


def line(text: str) -> None:
    """One line on the console, above the progress bar when there is one."""
    progress = _state['progress']
    if progress is not None and not progress.disable:
        progress.console.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        print(text, flush=True)


def duration(seconds: float) -> str:
    """'4m55s', '1h02m03s' (negative counts as 0)."""
    seconds = int(round(max(seconds, 0.0)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}h{minutes:02d}m{secs:02d}s' if hours else f'{minutes}m{secs:02d}s'


class SuiteProgress:
    """Progress over the (method, seed) runs of a suite: a rich bar with ETA on a terminal,
    else one plain ``[k/N] ... ETA`` line after each run.

    ``trains[i]`` says whether run i pretrains (a trainable method without final weights yet):
    such a run takes many times one that only evaluates (RandomInit, reused weights), so the
    ETA counts the runs left of each kind at the mean duration of finished runs of that kind,
    and is unknown while a pretraining is left and none has finished (see :func:`eta`).
    """

    def __init__(self, total: int, title: str, trains: list[bool] | None = None) -> None:
        self.total, self.done, self.title = total, 0, title
        self.trains = list(trains) if trains is not None else [False] * total
        if len(self.trains) != total:
            raise ValueError(f'{len(self.trains)} training flags for {total} runs')
        self.durations: list[float] = []
        self.start = self.last = time.perf_counter()
        console = Console(stderr=True)
        self.bar = Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(),
                            TextColumn('runs'), TimeElapsedColumn(), TextColumn('ETA'),
                            TextColumn('{task.fields[eta]}'), console=console,
                            disable=not console.is_terminal)
        self.task = self.bar.add_task(title, total=total, eta=self.eta_text())

    def eta_text(self) -> str:
        left = eta(self.durations, self.trains)
        return 'unknown (no pretraining finished yet)' if left is None else duration(left)

    def advance(self, what: str) -> None:
        now = time.perf_counter()
        self.durations.append(now - self.last)
        self.last = now
        self.done += 1
        text = self.eta_text()
        self.bar.update(self.task, advance=1, eta=text)
        if self.bar.disable:
            line(f'[{self.done}/{self.total}] {what} done; elapsed '
                 f'{duration(now - self.start)}, ETA {text}')


def eta(durations: list[float], trains: list[bool]) -> float | None:
    """Seconds left after ``len(durations)`` finished runs of ``trains`` (see
    :class:`SuiteProgress`): each run left at the mean of the finished runs of its kind, an
    evaluation-only run at the pretraining runs' mean while none of its kind has finished;
    None while a pretraining is left and none has finished."""
    done = len(durations)
    trained = [d for d, t in zip(durations, trains) if t]
    other = [d for d, t in zip(durations, trains) if not t]
    left_train = sum(trains[done:])
    left_other = len(trains) - done - left_train
    if left_train and not trained:
        return None
    mean_train = sum(trained) / len(trained) if trained else 0.0
    mean_other = sum(other) / len(other) if other else mean_train
    return left_train * mean_train + left_other * mean_other


@contextmanager
def suite_progress(total: int, title: str,
                   trains: list[bool] | None = None) -> Iterator[SuiteProgress]:
    progress = SuiteProgress(total, title, trains)
    _state['progress'] = progress.bar
    try:
        with progress.bar:
            yield progress
    finally:
        _state['progress'] = None
