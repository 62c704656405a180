"""A suite family: several data sets, every method pretrained once on each (at that data set's
own budget) and evaluated on each by the same protocols, in domain and, with ``transfer=True``,
from every other data set's pretraining (pretrain on A, evaluate on B). See
``configs/families/synth.py``::

    _base_ = ['../_base_/suite_synthmotion.py']     # methods, seeds, pretrain, evaluation
    family_name = 'synth'
    datasets = dict(
        synthmotion=dict(data=dict(type='synthmotion', root='data/synthmotion'),
                         budget=dict(unit='train_flops', value=30e12)),
        synthevents=dict(data=dict(type='synthevents', root='data/synthevents'),
                         budget=dict(unit='train_flops', value=60e12)))
    transfer = True

Each (source, target) pair is an ordinary suite (a *member*, checked like any suite): the
target's data with ``pretrain_data`` = the source's (:mod:`vssl_bench.data.pretrain_source`) and
the source's budget. A member's pretraining is the in-domain member's of its source, so the
weights are trained once per (method, seed, source) and shared. The in-domain members run first;
each member writes an ordinary results folder (``<out>/<target>`` in domain,
``<out>/<target>_from_<source>``), then :mod:`vssl_bench.report.family_report` writes the family's
tables and rank agreement into ``<out>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from vssl_bench.core.errors import ConfigError, UserError
from vssl_bench.harness.suite import run_suite
from vssl_bench.harness.suite_config import Suite
from vssl_bench.harness.suite_keys import SAFE_NAME
from vssl_bench.harness.validate import load_suite
from vssl_bench.report.family_report import write_family_report

#: Keys a family config declares besides the suite keys it shares with its members.
FAMILY_KEYS = ('family_name', 'datasets')
#: Keys of one data set of a family.
DATASET_KEYS = ('data', 'budget')


@dataclass(frozen=True)
class Member:
    """One (pretraining source, evaluation target) pair of a family and its suite."""

    source: str
    target: str
    suite: Suite

    @property
    def in_domain(self) -> bool:
        return self.source == self.target

    @property
    def folder(self) -> str:
        """Its results folder under the family's."""
        return self.target if self.in_domain else f'{self.target}_from_{self.source}'


@dataclass(frozen=True)
class Family:
    name: str
    path: str
    datasets: tuple[str, ...]
    members: tuple[Member, ...]
    transfer: bool


def load_family(path: str | Path) -> Family:
    """The family config at ``path`` and its members, each checked like a suite (before any data
    is generated); raises :class:`~vssl_bench.core.errors.UserError` naming the bad value."""
    path = Path(path)
    if not path.is_file() or path.suffix != '.py':
        raise ConfigError(f'family config {path} not found or not a .py file: families live in '
                          'configs/families/ (e.g. configs/families/synth.py)')
    try:
        cfg = Config.fromfile(str(path))
    except Exception as exc:  # SyntaxError, a missing _base_, a bad import...
        raise ConfigError(f'family config {path} cannot be read ({type(exc).__name__}): fix '
                          'the file') from exc
    missing = [key for key in FAMILY_KEYS if key not in cfg]
    if missing:
        raise ConfigError(f'family config {path} lacks {missing}: a family declares '
                          f'family_name and datasets (see configs/families/synth.py)')
    name = cfg.family_name
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise ConfigError(f'{path}: family_name={name!r} must be a plain folder name, e.g. '
                          "'synth'")
    datasets = _datasets(cfg.datasets, path)
    transfer = cfg.get('transfer', True)
    if not isinstance(transfer, bool):
        raise ConfigError(f'{path}: transfer={transfer!r} must be True (evaluate every data set '
                          'on every pretraining) or False (in domain only)')
    pairs = [(t, t) for t in datasets] + ([(s, t) for t in datasets for s in datasets if s != t]
                                          if transfer else [])
    members = tuple(Member(source, target, _member_suite(path, name, datasets, source, target))
                    for source, target in pairs)
    return Family(name=name, path=str(path), datasets=tuple(datasets), members=members,
                  transfer=transfer)


def _datasets(datasets, path: Path) -> dict[str, dict]:
    if not hasattr(datasets, 'items') or not datasets:
        raise ConfigError(f'{path}: datasets must be a dict of data set name -> dict(data=..., '
                          'budget=...), e.g. see configs/families/synth.py')
    out = {}
    for key, entry in datasets.items():
        where = f'{path}: datasets.{key}'
        if not SAFE_NAME.match(str(key)):
            raise ConfigError(f'{where}: a data set name names folders; use letters, digits, '
                              '_ . + - (e.g. synthevents)')
        entry = entry.to_dict() if hasattr(entry, 'to_dict') else entry
        if not isinstance(entry, dict) or sorted(entry) != sorted(DATASET_KEYS):
            raise ConfigError(f'{where} must be dict(data=dict(type=..., root=...), budget=dict('
                              f"unit='train_flops', value=...)), got {entry!r}")
        if not isinstance(entry['data'], dict) or 'pretrain_data' in entry['data']:
            raise ConfigError(f'{where}.data must be a data section without pretrain_data (the '
                              'family pairs the data sets itself)')
        out[str(key)] = entry
    return out


def _member_suite(path: Path, family: str, datasets: dict, source: str, target: str) -> Suite:
    data = dict(datasets[target]['data'])
    if source != target:
        data['pretrain_data'] = dict(datasets[source]['data'])
    name = f'{family}-{target}' + ('' if source == target else f'-from-{source}')
    try:
        return load_suite(path, cfg_options={'suite_name': name, 'data': data,
                                             'pretrain.budget': datasets[source]['budget']})
    except UserError as exc:
        raise ConfigError(f'family {path}, data set {target} pretrained on {source}: '
                          f'{exc}') from exc


def run_family(family: Family, out: Path, work_root: Path, methods: list[str] | None = None,
               seeds: list[int] | None = None, launcher: str = 'none',
               use_cache: bool = True) -> tuple[dict | None, list[str]]:
    """Run every member (in-domain members first: they pretrain), then write the family report.
    A failing member is reported and the others go on. Returns the report (None on ranks other
    than 0) and the failures."""
    failures = []
    for member in family.members:
        board, failed = run_suite(member.suite, out=out / member.folder, work_root=work_root,
                                  methods=methods, seeds=seeds, launcher=launcher,
                                  use_cache=use_cache)
        failures += [f'{member.folder}: {f}' for f in failed]
        if board is None:
            return None, failures
    return write_family_report(out, family), failures
