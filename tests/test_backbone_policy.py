"""The backbone belongs to the suite: every method of a suite is built on one architecture."""
from pathlib import Path

import pytest

from vssl_bench.harness.backbone_policy import (BackboneError, check_shared, enforce, plain,
                                                variant_backbone)
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite import run_suite
from vssl_bench.harness.suite_config import Suite, load_method_config

ROOT = Path(__file__).resolve().parents[1]
SYNTHMOTION_SUITES = sorted(p for p in (ROOT / 'configs/suites').glob('*.py'))
RANDOM_INIT = 'configs/methods/random_init_r3d18w16_synthmotion.py'
TCLR = 'configs/methods/tclr_r3d18w16_8x4_synthmotion.py'
load_plugins()  # in-tree methods registered, as run_suite does first


def _suite(tmp_path, body: str) -> Path:
    path = tmp_path / 'configs/suites/s.py'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"_base_ = ['{ROOT}/configs/suites/tiny.py']\nsuite_name = 's'\n{body}\n")
    return path


@pytest.mark.parametrize('suite_path', SYNTHMOTION_SUITES, ids=lambda p: p.stem)
def test_every_synthmotion_suite_builds_one_backbone(suite_path):
    suite = Suite.load(suite_path)
    assert suite.backbone is not None, f'{suite_path.name} declares no backbone'
    assert tuple(suite.backbone['temporal_strides']) == (1, 1, 1, 1)
    for entry in suite.methods:
        cfg = load_method_config(entry, suite)
        expected = variant_backbone(suite.backbone, suite.backbone_variants,
                                    entry['backbone_variant'], where='test')
        assert plain(cfg.model.backbone) == expected, cfg.method_name


def test_a_method_that_changes_the_backbone_is_refused(tmp_path):
    path = _suite(tmp_path, f"methods = [dict(config='{ROOT / TCLR}', overrides=dict(model=dict("
                            "backbone=dict(temporal_strides=(1, 2, 2, 2)))))]")
    suite = Suite.load(path)
    with pytest.raises(BackboneError) as err:
        load_method_config(suite.methods[0], suite)
    message = str(err.value)
    assert 'temporal_strides: [1, 2, 2, 2] vs [1, 1, 1, 1]' in message
    assert 'belongs to the suite' in message and 'backbone_variant' in message
    # run_suite refuses it before any data is touched (the data root does not exist)
    with pytest.raises(BackboneError):
        run_suite(Suite.load(path, data_root=str(tmp_path / 'missing')), out=tmp_path / 'out',
                  work_root=tmp_path / 'work')


def test_a_method_without_backbone_gets_the_suite_one():
    class Model(dict):
        get = dict.get
    model = Model(type='CVRL')
    enforce(model, {'type': 'ResNet3d', 'depth': 18}, where='x')
    assert model['backbone'] == {'type': 'ResNet3d', 'depth': 18}
    enforce(model, {'type': 'ResNet3d', 'depth': 18}, where='x')  # equal: accepted
    with pytest.raises(BackboneError, match='depth: 18 vs 50'):
        enforce(model, {'type': 'ResNet3d', 'depth': 50}, where='x')


def test_variants_need_their_own_random_init(tmp_path):
    variants = "backbone_variants = dict(t1=dict(temporal_strides=(1, 2, 2, 2)))\n"
    lone = _suite(tmp_path, variants + f"methods = ['{ROOT / RANDOM_INIT}', dict(config='{ROOT / TCLR}', "
                  "name='TCLR-t1', backbone_variant='t1')]")
    suite = Suite.load(lone)
    cfg = load_method_config(suite.methods[1], suite)
    assert tuple(cfg.model.backbone.temporal_strides) == (1, 2, 2, 2)
    entries = [(c.method_name, e['backbone_variant'], c.model.type, c.model.backbone)
               for e, c in ((e, load_method_config(e, suite)) for e in suite.methods)]
    with pytest.raises(BackboneError, match="variant 't1' .*TCLR-t1.* has no RandomInit"):
        check_shared(entries, where='s')
    matched = entries + [('RandomInit-t1', 't1', 'RandomInit', cfg.model.backbone)]
    check_shared(matched, where='s')  # accepted
    with pytest.raises(BackboneError, match='not declared'):
        variant_backbone(suite.backbone, suite.backbone_variants, 't9', where='s')


def test_without_a_suite_backbone_methods_must_still_agree():
    a = {'type': 'ResNet3d', 'depth': 18}
    check_shared([('A', None, 'CVRL', a), ('B', None, 'TCLR', dict(a))], where='s')
    with pytest.raises(BackboneError, match='B and A build different backbones'):
        check_shared([('A', None, 'CVRL', a), ('B', None, 'TCLR', dict(a, depth=50))],
                     where='s')
