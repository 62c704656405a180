"""Run records -> leaderboard rows: reading the records, the mean over seeds of every (method,
protocol, metric) with its interval and significance (:mod:`vssl_bench.report.leaderboard_stats`),
the compute each method consumed, and where the numbers came from.

Run records live at ``<results_dir>/runs/<method>/seed<seed>/<protocol>.json`` and are read as
:class:`vssl_bench.core.records.RunRecord` (metrics already in percent).
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vssl_bench.core.hits import decode
from vssl_bench.core.io import read_json
from vssl_bench.core.records import RecordError, RunRecord
from vssl_bench.report.leaderboard_stats import BASELINE, annotate
from vssl_bench.report.table_helpers import method_sort_key, metric_sort_key, protocol_sort_key

#: The protocols that fine-tune the network (their schedule is searched on validation).
FINE_TUNING = ('semisup', 'finetune')


def load_records(results_dir: str | Path) -> list[RunRecord]:
    """All run records under ``<results_dir>/runs``, in sorted path order.

    Unreadable files (bad JSON, a field missing or of the wrong type, a newer record schema) are
    skipped with a warning that names the file and the problem: one broken run must not hide all
    the others.
    """
    records = []
    for path in sorted(Path(results_dir, 'runs').glob('*/seed*/*.json')):
        try:
            records.append(RunRecord.from_dict(read_json(path), where=str(path)))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(f'Skipping unreadable run record {path}: {err}', stacklevel=2)
        except RecordError as err:
            warnings.warn(f'Skipping malformed run record {err}', stacklevel=2)
    return records


#: What a run record's ``pretrain`` stats say was consumed, averaged over seeds per method.
COMPUTE_KEYS = ('train_tflops', 'iters', 'epochs', 'clips_seen', 'wall_s', 'device_s',
                'peak_mem_mb')


def compute_summary(records: Iterable[RunRecord]) -> dict[str, dict[str, Any]]:
    """Per method: the budget (unit, value, matched) and the mean over its seeds of every
    consumed quantity in :data:`COMPUTE_KEYS` (one value per seed: protocols of a seed share
    the pretraining)."""
    per_seed: dict[str, dict[int, dict[str, Any]]] = {}
    for record in records:
        if record.pretrain is not None:
            per_seed.setdefault(record.method, {})[record.seed] = record.pretrain
    summary = {}
    for method, seeds in per_seed.items():
        stats = [seeds[s] for s in sorted(seeds)]
        entry: dict[str, Any] = {'budget': stats[0].get('budget'),
                                 'matched': stats[0].get('matched'),
                                 'untrained': bool(stats[0].get('untrained', False))}
        for key in COMPUTE_KEYS:
            values = [float(st[key]) for st in stats if isinstance(st.get(key), (int, float))]
            entry[key] = round(float(np.mean(values)), 4) if values else None
        summary[method] = entry
    return summary


def not_searched(record: RunRecord) -> bool:
    """A fine-tuning record (semisup, finetune) made on one fixed schedule, without the
    checkpoint search on validation (``protocol_info.search``, :mod:`vssl_bench.protocols.semisup`):
    it measures how fast a checkpoint adapts in that schedule, not its fine-tuned accuracy."""
    if record.protocol not in FINE_TUNING:
        return False
    info = record.evaluation.get('protocol_info') or {}
    return not info.get('search')


def current_protocols() -> dict[str, tuple[str, dict[str, str]]]:
    """Protocol name -> (its current version, what each version changed), of every registered
    protocol (imported here, late: reading records needs no torch)."""
    import vssl_bench.protocols  # noqa: F401  (registers the in-tree protocols)
    from vssl_bench.core.registry import PROTOCOLS
    return {cls.name: (cls.version, dict(cls.changes))
            for cls in PROTOCOLS.module_dict.values() if hasattr(cls, 'version')}


def outdated(records: Iterable[RunRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, protocol) -> what is outdated, for records made by an earlier version of their
    protocol than the registered one: ``{'versions': [...], 'current': v, 'change': ...}``
    (``change``: what the current version changed). Unknown protocols are never outdated."""
    current = current_protocols()
    seen: dict[tuple[str, str], set[str]] = {}
    for record in records:
        protocol, version = record.protocol, record.protocol_version or '?'
        if protocol in current and version != current[protocol][0]:
            seen.setdefault((record.method, protocol), set()).add(version)
    return {key: dict(versions=sorted(versions), current=current[key[1]][0],
                      change=current[key[1]][1].get(current[key[1]][0], ''))
            for key, versions in seen.items()}


def failed_videos(record: RunRecord) -> int:
    """Videos a record's numbers left out (undecodable): pretraining plus evaluation splits."""
    pretrain = (record.pretrain or {}).get('num_failed') or 0
    evaluation = record.evaluation.get('num_failed') or {}
    return int(pretrain) + int(sum(v or 0 for v in evaluation.values()))


def aggregate(records: Iterable[RunRecord],
              method_order: Sequence[str] | None = None,
              baseline: str = BASELINE) -> list[dict[str, Any]]:
    """One row per (method, protocol, metric) over seeds.

    Rows: ``{method, protocol, metric, mean, std, n, seeds, values, compute}`` (``compute``: the
    method's :func:`compute_summary` entry, or None without pretraining stats); ``seeds`` sorted and
    ``values`` in the same order. ``std`` is the sample standard deviation (ddof=1) when n > 1,
    and 0.0 when n == 1. A (method, seed, protocol) seen twice keeps the last record given
    (with a warning); records are normally unique by path. Plus the 95 % interval and the
    significance keys of :func:`vssl_bench.report.leaderboard_stats.annotate` (``ci_low``,
    ``ci_high``, ``ci_method``, ``sig_vs_random_init``, ``p_vs_random_init``, ``sig_vs_best``,
    ``p_vs_best`` and their multiple-comparison corrected ``p_adj_*``), from the records'
    ``per_video`` outcomes when every seed has them (see :mod:`vssl_bench.core.hits`).
    """
    rows, outcomes = collect(records, method_order)
    annotate(rows, outcomes, baseline)
    return rows


def collect(records: Iterable[RunRecord], method_order: Sequence[str] | None = None
            ) -> tuple[list[dict[str, Any]], dict[tuple[str, str, str], np.ndarray]]:
    """:func:`aggregate`'s rows before their interval and significance keys, and the per-video
    outcomes their intervals come from: (method, protocol, metric) -> (seeds, videos) array,
    for the rows whose every seed has them."""
    records = list(records)
    compute = compute_summary(records)
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    per_video: dict[tuple[str, str, str], dict[int, np.ndarray | None]] = {}
    for record in records:
        method, protocol, seed = record.method, record.protocol, record.seed
        for metric, value in record.metrics.items():
            per_seed = values.setdefault((method, protocol, str(metric)), {})
            if seed in per_seed:
                warnings.warn(f'Duplicate record for {method}/seed{seed}/{protocol}; keeping the '
                              f'last one', stacklevel=2)
            per_seed[seed] = float(value)
            per_video.setdefault((method, protocol, str(metric)), {})[seed] = \
                _outcomes(record, str(metric), float(value))
    method_key = method_sort_key(method_order)
    keys = sorted(values, key=lambda k: (method_key(k[0]), protocol_sort_key(k[1]),
                                         metric_sort_key(k[2])))
    failures: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record.method, record.protocol)
        failures[key] = max(failures.get(key, 0), failed_videos(record))
    unsearched = {(r.method, r.protocol) for r in records if not_searched(r)}
    old = outdated(records)
    rows, outcomes = [], {}
    for method, protocol, metric in keys:
        seeds = sorted(values[method, protocol, metric])
        vals = np.array([values[method, protocol, metric][s] for s in seeds], dtype=np.float64)
        rows.append({
            'method': method, 'protocol': protocol, 'metric': metric,
            'mean': float(vals.mean()),
            'std': float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            'n': len(vals), 'seeds': seeds, 'values': vals.tolist(),
            'compute': compute.get(method),
            # only when videos were left out: tables of clean data sets stay as they were
            **({'num_failed': failures[method, protocol]}
               if failures.get((method, protocol)) else {}),
            **({'unsearched': True} if (method, protocol) in unsearched else {}),
            **({'outdated': old[method, protocol]} if (method, protocol) in old else {}),
        })
        vectors = [per_video[method, protocol, metric][s] for s in seeds]
        if all(v is not None for v in vectors):
            if len({len(v) for v in vectors}) == 1:
                outcomes[method, protocol, metric] = np.stack(vectors)
            else:
                warnings.warn(f'{method}/{protocol} {metric}: per-video outcomes of different '
                              f'lengths over seeds {seeds}; interval over seeds only',
                              stacklevel=2)
    return rows, outcomes


def _outcomes(record: RunRecord, metric: str, value: float) -> np.ndarray | None:
    """The record's per-video outcomes of ``metric`` (None when absent, and when malformed or
    not averaging to the metric, with a warning)."""
    per_video = record.per_video
    if per_video is None or metric not in per_video:
        return None
    where = f'{record.label} {metric}'
    try:
        outcomes = decode(per_video[metric])
    except ValueError as err:
        warnings.warn(f'Ignoring per-video outcomes of {where}: {err}', stacklevel=3)
        return None
    if abs(100.0 * outcomes.mean() - value) > 1e-3:
        warnings.warn(f'Ignoring per-video outcomes of {where}: their mean '
                      f'{100.0 * outcomes.mean():.4f} is not the metric {value}', stacklevel=3)
        return None
    return outcomes


def records_provenance(records: Sequence[RunRecord]) -> dict[str, Any]:
    """Union over the records of where their numbers came from, for the footer.

    Reads each record's ``provenance`` as written by :func:`vssl_bench.core.provenance.provenance`
    (``git``: revision string, ``packages``: name -> version, ``device``, ``python``) and each
    record's ``protocol_version``. Every field is a sorted list of the distinct values seen, so a
    leaderboard mixing revisions or versions shows it.
    """
    fields: dict[str, set[str]] = {'git': set(), 'device': set(), 'precision': set(),
                                   'python': set()}
    packages: dict[str, set[str]] = {}
    protocol_versions: dict[str, set[str]] = {}
    for record in records:
        protocol_versions.setdefault(record.protocol, set()).add(
            record.protocol_version or '?')
        prov = record.provenance
        if prov is None:
            continue
        for key, seen in fields.items():
            if isinstance(prov.get(key), (str, int, float)):
                seen.add(str(prov[key]))
        if isinstance(prov.get('packages'), dict):
            for name, version in prov['packages'].items():
                packages.setdefault(str(name), set()).add(str(version))
    out: dict[str, Any] = {key: sorted(seen) for key, seen in fields.items()}
    out['packages'] = {k: sorted(v) for k, v in sorted(packages.items())}
    out['protocol_versions'] = {k: sorted(v) for k, v in sorted(
        protocol_versions.items(), key=lambda kv: protocol_sort_key(kv[0]))}
    for protocol, versions in out['protocol_versions'].items():
        if len(versions) > 1:
            warnings.warn(f'Records of protocol {protocol!r} mix versions {versions}: their '
                          f'numbers may not be comparable', stacklevel=3)
    return out
