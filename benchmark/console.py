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
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

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
    else one plain ``[k/N] ... ETA`` line after each run."""

    def __init__(self, total: int, title: str) -> None:
        self.total, self.done, self.title = total, 0, title
        self.start = time.perf_counter()
        console = Console(stderr=True)
        self.bar = Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(),
                            TextColumn('runs'), TimeElapsedColumn(), TextColumn('ETA'),
                            TimeRemainingColumn(), console=console,
                            disable=not console.is_terminal)
        self.task = self.bar.add_task(title, total=total)

    def advance(self, what: str) -> None:
        self.done += 1
        self.bar.advance(self.task)
        if self.bar.disable:
            elapsed = time.perf_counter() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            line(f'[{self.done}/{self.total}] {what} done; elapsed {duration(elapsed)}, '
                 f'ETA {duration(eta)}')


@contextmanager
def suite_progress(total: int, title: str) -> Iterator[SuiteProgress]:
    progress = SuiteProgress(total, title)
    _state['progress'] = progress.bar
    try:
        with progress.bar:
            yield progress
    finally:
        _state['progress'] = None
