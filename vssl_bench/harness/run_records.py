"""Identity and records of a suite's runs: the hashes that name a (method, seed)'s work dir and
mark its records current, and the writing and checking of one JSON record per (method, seed,
protocol)."""
from __future__ import annotations

from pathlib import Path

from mmengine.config import Config
from mmengine.logging import print_log

from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.core.precision import precision_name
from vssl_bench.core.provenance import stable_hash
from vssl_bench.core.records import RecordError, RunRecord
from vssl_bench.data import pretrain_source, procedural
from vssl_bench.harness.suite_config import Suite


def generated_data_version(data: dict) -> dict:
    """What a generated data set's ``meta.json`` says about its content (data set, scale, seed
    and generator version), so that weights trained on a regenerated data set of another
    version are not taken for this one's; {} for other data sets (their lists are in ``data``)."""
    if not procedural.is_generated(data.get('type')):
        return {}
    meta = read_json(Path(data['root']) / 'meta.json')
    return {key: meta.get(key) for key in ('dataset', 'scale', 'seed', 'version')}


def pretrain_hash(suite: Suite, cfg: Config) -> str:
    """Identity of a (method, suite) pretraining: the method config, the suite's pretraining and
    data sections, the generated data set's version, and the precision this process trains in
    (:func:`vssl_bench.core.precision.precision_name`: bfloat16 where native, float32 elsewhere or
    under ``VSSL_FLOAT32``). Names the work dir: weights are reused only under the same hash,
    so weights trained in bfloat16 are never taken for a float32 run in the same work dir (or
    the reverse), and a change of the evaluation alone keeps them. A suite that pretrains on
    another generated data set hashes the data section of a suite on that source
    (:func:`vssl_bench.data.pretrain_source.pretraining_data`): it shares that suite's weights."""
    data = pretrain_source.pretraining_data(suite.data)
    return stable_hash(dict(method=cfg.to_dict(), pretrain=suite.pretrain, data=data,
                            generated=generated_data_version(data),
                            precision=precision_name()))


def run_config_hash(suite: Suite, cfg: Config) -> str:
    """Identity of a (method, suite) run: what :func:`pretrain_hash` covers plus the suite's
    evaluation. Written into every record; a record is current only under the same hash."""
    return stable_hash(dict(method=cfg.to_dict(), pretrain=suite.pretrain,
                            evaluation=suite.evaluation, data=suite.data,
                            generated=generated_data_version(suite.data),
                            precision=precision_name()))


def record_is_current(path: Path, config_hash: str, protocol) -> bool:
    """Whether ``path`` holds a readable record of this run hash and protocol version (a
    malformed one is not current: it is recomputed)."""
    if not path.is_file():
        return False
    try:
        rec = RunRecord.from_dict(read_json(path), where=str(path))
    except (OSError, ValueError, RecordError):
        return False
    return rec.config_hash == config_hash and rec.protocol_version == protocol.version


def write_record(path: Path, record: RunRecord) -> Path:
    atomic_write_json(path, record.to_dict())
    print_log(f'{record.method} seed {record.seed} {record.protocol}: {record.metrics}',
              logger='current')
    return path


def run_dirs(work_root: Path) -> list[Path]:
    """The (method, seed) work dirs under ``work_root``: the suites' (:func:`run_work_dir`,
    ``pretrain/<method>-<hash>/seed<n>``) and ``vssl-bench train``'s
    (``train/<method>/seed<n>``, :func:`vssl_bench.harness.train.train_method`)."""
    root = Path(work_root)
    return sorted(p for sub in ('pretrain', 'train') for p in (root / sub).glob('*/seed*')
                  if p.is_dir())


def run_work_dir(suite: Suite, cfg: Config, seed: int, work_root: Path) -> Path:
    """Work dir of one (method, seed): its weights (``final_weights.pth``) and scratch space,
    named by the method and :func:`pretrain_hash`, not by the suite: an evaluation change keeps
    the weights, and suites that train the same method config under the same budget on the same
    data (the default and the standard suite, the ablations' unchanged rows) share them."""
    return (Path(work_root) / 'pretrain' / f'{cfg.method_name}-{pretrain_hash(suite, cfg)[:8]}'
            / f'seed{seed}')
