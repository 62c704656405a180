"""Out-of-tree methods (examples/plugin_method): found through custom_imports in a config or the
vssl_bench.methods entry point, run through a suite like any in-tree method, and clear errors
when a plugin cannot be loaded."""
import math
import sys
import tomllib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from vssl_bench.cli import main
from vssl_bench.core.io import read_json
from vssl_bench.core.plugins import ENTRY_POINT_GROUP, PluginError
from vssl_bench.core.registry import MODELS, build
from vssl_bench.data.synthmotion import generate
from vssl_bench.engine.pretrain import check_method_config, registered_methods
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite import Suite, run_suite

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / 'examples/plugin_method'
CONFIG = PLUGIN / 'configs/simsiam_r3d18w16_8x2_synthmotion.py'
SUITE = PLUGIN / 'configs/tiny_plugin_suite.py'
NAME = 'VideoSimSiam'


def _forget_plugin() -> None:
    for module in [m for m in sys.modules if m.split('.')[0] == 'vssl_example_plugin']:
        del sys.modules[module]
    MODELS.module_dict.pop(NAME, None)


@pytest.fixture(autouse=True)
def fresh_plugin():
    """Every test starts with the plugin neither imported nor registered, and leaves it so."""
    load_plugins()  # in-tree methods in, before the check below
    _forget_plugin()
    yield
    _forget_plugin()


def _dist_info(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """What `pip install` leaves for importlib.metadata: NAME-VERSION.dist-info/{METADATA,
    entry_points.txt}."""
    info = site / f'{name.replace("-", "_")}-0.1.0.dist-info'
    info.mkdir(parents=True)
    (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n')
    lines = [f'{key} = {value}' for key, value in entry_points.items()]
    (info / 'entry_points.txt').write_text(f'[{ENTRY_POINT_GROUP}]\n' + '\n'.join(lines) + '\n')


def test_not_registered_without_the_plugin():
    assert NAME not in MODELS.module_dict
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False)
    with pytest.raises(PluginError, match=r"'vssl_example_plugin', which is not importable.*"
                                          r"pip install -e.*PYTHONPATH"):
        check_method_config(cfg, str(CONFIG))


def test_plugin_config_inherits_the_shipped_base_configs(tmp_path, monkeypatch):
    """The example's _base_ paths name no checkout: they go through VSSL_BENCH_CONFIGS, which
    importing benchmark sets to the shared configs, and which a user may point elsewhere."""
    from vssl_bench.core.config_root import ENV, configs_root
    assert '../' not in CONFIG.read_text()
    assert configs_root() == ROOT / 'configs'
    monkeypatch.setenv(ENV, str(configs_root()))
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False)
    assert cfg.model.backbone.depth == 18 and cfg.optim_wrapper.optimizer.type == 'AdamW'
    # a copy of the shared configs with another backbone depth, named by the variable: used
    copy = tmp_path / 'configs'
    (copy / '_base_').mkdir(parents=True)
    for base in (ROOT / 'configs/_base_').glob('*.py'):
        text = base.read_text()
        if base.name == 'backbone_r3d18_w16.py':
            assert 'depth=18' in text
            text = text.replace('depth=18', 'depth=34')
        (copy / '_base_' / base.name).write_text(text)
    monkeypatch.setenv(ENV, str(copy))
    assert Config.fromfile(str(CONFIG), import_custom_modules=False).model.backbone.depth == 34


def test_wheel_ships_every_config():
    """pyproject.toml's data-files put configs/ (bases, methods, suites, families, paper configs)
    where configs_root() finds an installed copy: every file of it, in the same layout, so a
    plugin's _base_ and method paths resolve outside a checkout too."""
    import glob
    pyproject = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    data = pyproject['tool']['setuptools']['data-files']
    shipped = {str(Path(dest).relative_to('share/vssl-bench') / Path(f).name)
               for dest, patterns in data.items() for pattern in patterns
               for f in glob.glob(str(ROOT / pattern))}
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
                if p.name != 'schedule_candidates.py'}  # a tool's input, not a config
    assert shipped == expected


def test_plugin_suite_runs_outside_a_checkout(tmp_path, monkeypatch):
    """The example suite names no checkout path: copied with the plugin to a folder of its own
    and read from another working directory, with vssl-bench's configs installed elsewhere
    (a wheel's share/vssl-bench/configs), it inherits the installed tiny suite and its
    `configs/methods/...` entries resolve to the installed method configs."""
    import shutil

    from vssl_bench.core.config_root import ENV
    from vssl_bench.harness import suite_config
    assert '../' not in SUITE.read_text()
    installed = tmp_path / 'prefix/share/vssl-bench/configs'
    shutil.copytree(ROOT / 'configs', installed)
    monkeypatch.setattr(suite_config, 'configs_root', lambda: installed)
    monkeypatch.setenv(ENV, str(installed))
    plugin = tmp_path / 'my_plugin'
    shutil.copytree(PLUGIN / 'configs', plugin / 'configs')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    suite = Suite.load(plugin / 'configs/tiny_plugin_suite.py', data_root=str(tmp_path / 'd'))
    assert suite.name == 'tiny_plugin' and suite.seeds == [0]  # the tiny suite's, inherited
    assert [entry['config'] for entry in suite.methods] == [
        str(installed / 'methods/random_init_r3d18w16_synthmotion.py'),
        str(installed / 'methods/cvrl_r3d18w16_8x2_synthmotion.py'),
        str(plugin / 'configs/simsiam_r3d18w16_8x2_synthmotion.py')]
    # without the installed method configs, the same suite's in-tree entries are not found
    shutil.rmtree(installed / 'methods')
    suite = Suite.load(plugin / 'configs/tiny_plugin_suite.py', data_root=str(tmp_path / 'd'))
    with pytest.raises(FileNotFoundError, match='random_init_r3d18w16_synthmotion.py'):
        suite_config.load_method_config(suite.methods[0], suite)


def test_custom_imports_register_the_method(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False)
    check_method_config(cfg, str(CONFIG))  # imports vssl_example_plugin before the check
    assert NAME in registered_methods()


def test_plugin_model_contract(monkeypatch):
    """What tests/test_methods.py checks for every registered method, for the plugin."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False)
    check_method_config(cfg, str(CONFIG))
    torch.manual_seed(0)
    model = build(MODELS, cfg.model)
    model.init_weights()
    clips = torch.randint(0, 256, (4, 2, 3, 8, 32, 32), dtype=torch.uint8)
    inputs = model.data_preprocessor({'inputs': clips}, True)['inputs']
    losses = model(inputs, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        assert model.extract_feat(inputs[:, 0]).shape == (4, model.feat_dim)
        assert model(inputs, mode='tensor').shape == (4, 2, model.feat_dim)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


def test_plugin_runs_through_a_suite(tiny_data, tmp_path, monkeypatch):
    """The shipped example suite (configs/suites/tiny.py + the plugin config), run for the
    plugin: records and a leaderboard row appear for it, exactly as for an in-tree method."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    suite = Suite.load(SUITE, data_root=str(tiny_data))
    assert str(CONFIG) in [entry['config'] for entry in suite.methods]
    board, failures = run_suite(suite, out=tmp_path / 'results', work_root=tmp_path / 'work',
                                methods=[NAME])
    assert failures == []
    for protocol in ('linear', 'retrieval'):
        rec = read_json(tmp_path / 'results/runs' / NAME / 'seed0' / f'{protocol}.json')
        assert rec['method'] == NAME and rec['method_config'] == str(CONFIG)
        assert rec['metrics'] and all(math.isfinite(v) for v in rec['metrics'].values())
        # trained for the suite's FLOP budget on the suite's backbone: round(budget / per step)
        stats = rec['pretrain']
        assert stats['iters'] == round(stats['budget']['value'] / (stats['gflops_per_step'] * 1e9))
        assert stats['iters'] >= 2
    assert {row['method'] for row in board['rows']} == {NAME}


def test_entry_point_registers_the_method(tmp_path, monkeypatch, capsys):
    """An installed distribution declaring the example's entry point (as `pip install -e
    examples/plugin_method` does) makes the method known with no custom_imports."""
    declared = tomllib.loads((PLUGIN / 'pyproject.toml').read_text())
    eps = declared['project']['entry-points'][ENTRY_POINT_GROUP]
    _dist_info(tmp_path / 'site', declared['project']['name'], eps)
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    monkeypatch.syspath_prepend(str(PLUGIN))  # where an editable install points

    assert set(eps) <= set(load_plugins())
    assert NAME in registered_methods()
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False).to_dict()
    del cfg['custom_imports']
    cfg = Config(cfg)
    check_method_config(cfg, str(CONFIG))
    assert build(MODELS, cfg.model).feat_dim == 128
    assert main(['methods']) == 0
    assert NAME in capsys.readouterr().out.split()


def test_broken_entry_point_names_its_distribution(tmp_path, monkeypatch, capsys):
    _dist_info(tmp_path, 'vssl-bench-broken-plugin', {'broken': 'vssl_no_such_module'})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match=r"entry point 'broken' = 'vssl_no_such_module' "
                                          r".*vssl-bench-broken-plugin 0\.1\.0.*failed to load.*"
                                          r"pip uninstall vssl-bench-broken-plugin"):
        load_plugins()
    assert main(['methods']) == 2  # the CLI prints the message, not a traceback
    assert 'vssl-bench-broken-plugin' in capsys.readouterr().err


def test_plugin_that_raises_on_import_is_reported(tmp_path, monkeypatch):
    (tmp_path / 'vssl_raising_plugin.py').write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    leaf = tmp_path / 'raising.py'
    leaf.write_text("custom_imports = dict(imports=['vssl_raising_plugin'])\n"
                    "model = dict(type='Whatever')\n")
    with pytest.raises(PluginError, match=r"raising\.py: custom_imports module "
                                          r"'vssl_raising_plugin' was found but failed while "
                                          r"importing: RuntimeError: boom"):
        check_method_config(Config.fromfile(str(leaf), import_custom_modules=False), str(leaf))
