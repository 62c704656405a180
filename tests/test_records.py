"""The typed run record: what it accepts, what it refuses (naming the field), and that the
committed records of every schema read back unchanged."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vssl_bench.core.records import RECORD_SCHEMA, RecordError, RunRecord
from vssl_bench.report.aggregate import load_records

ROOT = Path(__file__).resolve().parents[1]


def _minimal(**changes):
    rec = dict(suite='s', method='CVRL', seed=0, protocol='linear', protocol_version='2',
               metrics={'top1': 50.0})
    rec.update(changes)
    return rec


def test_every_committed_record_round_trips():
    """Each committed record reads as a RunRecord and writes back the same JSON object (plus the
    schema field where it was written before the field existed)."""
    paths = sorted(ROOT.glob('results/**/runs/*/seed*/*.json'))
    assert len(paths) > 500
    for path in paths:
        data = json.loads(path.read_text())
        rec = RunRecord.from_dict(data, where=str(path))
        assert rec.schema == data.get('schema', 1)
        assert rec.to_dict() == {'schema': rec.schema, **data}, path


def test_fields_and_extra_keys():
    rec = RunRecord.from_dict(_minimal(data={'train': 'a.txt'}, weights_from={'path': 'w'}))
    assert (rec.method, rec.seed, rec.protocol, rec.metrics) == ('CVRL', 0, 'linear',
                                                                 {'top1': 50.0})
    assert rec.schema == 1 and rec.per_video is None and rec.evaluation == {}
    assert rec.extra == {'data': {'train': 'a.txt'}, 'weights_from': {'path': 'w'}}
    assert rec.label == 'CVRL/seed0/linear'
    # written records carry the current schema
    assert RunRecord(method='m', seed=1, protocol='knn', metrics={}).to_dict() == dict(
        schema=RECORD_SCHEMA, method='m', seed=1, protocol='knn', metrics={}, evaluation={})


@pytest.mark.parametrize('data,message', [
    ([1, 2], 'a run record is a JSON object, not a list'),
    ({'method': 'CVRL', 'seed': 0, 'protocol': 'linear'}, "field 'metrics' is missing"),
    (_minimal(seed='0'), "field 'seed' is a str, not a int"),
    (_minimal(seed=True), "field 'seed' is a bool"),
    (_minimal(metrics=[50.0]), "field 'metrics' is a list, not a dict"),
    (_minimal(metrics={'top1': 'high'}), r"metrics \['top1'\] are not numbers"),
    (_minimal(per_video='1010'), "field 'per_video' is a str"),
    (_minimal(schema=0), 'schema 0 is not a positive integer'),
    (_minimal(schema=RECORD_SCHEMA + 1), f'written with record schema {RECORD_SCHEMA + 1}, newer than this '
                                        r'vssl-bench reads \(\d\): upgrade vssl-bench'),
])
def test_malformed_records_are_refused_with_the_field(data, message):
    with pytest.raises(RecordError, match=f'^runs/x.json: {message}'):
        RunRecord.from_dict(data, where='runs/x.json')


def test_load_records_skips_a_malformed_record_and_names_it(tmp_path):
    good, bad = (tmp_path / 'runs' / 'CVRL' / 'seed0' / f'{p}.json' for p in ('linear', 'knn'))
    good.parent.mkdir(parents=True)
    good.write_text(json.dumps(_minimal()))
    bad.write_text(json.dumps(_minimal(protocol='knn', seed='zero')))
    with pytest.warns(UserWarning, match=r"Skipping malformed run record .*knn.json: field "
                                         r"'seed' is a str"):
        records = load_records(tmp_path)
    assert [r.protocol for r in records] == ['linear']
