"""Where a run's records and leaderboard go unless ``--out`` says otherwise.

``results/`` holds the results committed on purpose (the tables of results/README.md are rendered
from them and the tests compare them), so a user's run never writes there by default: ``vssl-bench
run`` and ``eval`` (and so ``make bench``) write into ``bench_results/<suite>``, which git ignores.
Regenerating a committed folder is a deliberate ``--out results/<suite>``.
"""
from __future__ import annotations

from pathlib import Path

#: Default parent of the results folders of runs (git-ignored, see .gitignore).
DEFAULT_ROOT = Path('bench_results')


def default_results(suite_name: str) -> Path:
    """``bench_results/<suite>`` (relative to the working directory)."""
    return DEFAULT_ROOT / suite_name
