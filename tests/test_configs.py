"""Every config parses, inherits at most one level from _base_/, and builds."""
import ast
from pathlib import Path

import pytest
from mmengine.config import Config

from vssl_bench.core.errors import ConfigError
from vssl_bench.core.registry import DATASETS, MODELS, build
from vssl_bench.engine.pretrain import check_method_config, runner_cfg
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite_config import Suite, load_method_config

load_plugins()
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.relative_to(ROOT) for p in (ROOT / 'configs').rglob('*.py'))
METHODS = [p for p in CONFIGS if p.parts[1] == 'methods' or p.parts[1:3] == ('paper', 'methods')]
# configs/paper/*.py are suites too (the papers' settings), configs/paper/methods/ their methods.
SUITES = [p for p in CONFIGS if p.parts[1] == 'suites'
          or (p.parts[1] == 'paper' and len(p.parts) == 3)]


def _bases(path: Path) -> list[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == '_base_':
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


@pytest.mark.parametrize('path', CONFIGS, ids=str)
def test_inherits_at_most_one_level_from_base(path):
    for base in _bases(ROOT / path):
        target = (ROOT / path).parent / base
        assert target.resolve().parent == (ROOT / 'configs/_base_').resolve(), base
        assert not _bases(target), f'{base} inherits again'


@pytest.mark.parametrize('path', METHODS, ids=str)
def test_method_config_builds(path):
    cfg = Config.fromfile(str(ROOT / path))
    check_method_config(cfg, str(path))
    model = build(MODELS, cfg.model)
    assert model.feat_dim > 0
    if 'train_dataloader' in cfg:
        assert cfg.train_dataloader.dataset.type in DATASETS
        full = runner_cfg(cfg, work_dir=Path('unused'), seed=0, max_iters=10)
        assert full.train_cfg.max_iters == 10


@pytest.mark.parametrize('path', SUITES, ids=str)
def test_suite_config_loads(path):
    suite = Suite.load(ROOT / path)
    assert suite.methods and suite.seeds
    for method in suite.methods:
        assert load_method_config(method, suite).method_name


def test_method_config_may_not_set_its_schedule(tmp_path):
    leaf = tmp_path / 'cvrl_own_schedule.py'
    leaf.write_text(f"_base_ = ['{ROOT}/configs/methods/cvrl_r3d18w16_8x2_synthmotion.py']\n"
                    "train_cfg = dict(type='IterBasedTrainLoop', max_iters=5)\n")
    with pytest.raises(ConfigError, match='harness decides how long every method'):
        check_method_config(Config.fromfile(str(leaf)), str(leaf))


def test_unknown_method_is_named(tmp_path):
    leaf = tmp_path / 'nope.py'
    leaf.write_text("model = dict(type='NoSuchMethod')\n")
    with pytest.raises(ConfigError, match="unknown method 'NoSuchMethod'.*CVRL"):
        check_method_config(Config.fromfile(str(leaf)), str(leaf))
