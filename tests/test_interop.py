"""Checkpoints in and out: torchvision r3d_18 keys, an mmaction2 export that a plain Recognizer3D
loads (features compared), and `vssl-bench eval` / `train` / `export` on tiny data."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import vssl_bench.engine.pretrain as pt
from vssl_bench.cli import main
from vssl_bench.core.io import read_json
from vssl_bench.core.registry import MODELS, build
from vssl_bench.data.synthmotion import generate
from vssl_bench.engine.interop import TORCHVISION_R3D18, torchvision_to_resnet3d
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.export import export_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
RANDOM_INIT = ROOT / 'configs/methods/random_init_r3d18w16_synthmotion.py'
load_plugins()


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


def _r3d18(seed: int = 0) -> torch.nn.Module:
    torchvision = pytest.importorskip('torchvision')
    torch.manual_seed(seed)
    model = torchvision.models.video.r3d_18(weights=None)
    for module in model.modules():  # non-trivial BN statistics, so a wrong mapping shows
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_torchvision_r3d18_maps_onto_resnet3d_with_the_same_features():
    tv = _r3d18()
    backbone = build(MODELS, TORCHVISION_R3D18)
    backbone.eval()  # ResNet3d's train() returns None
    backbone.load_state_dict(torchvision_to_resnet3d(tv.state_dict()))  # strict: every key
    tv.fc = torch.nn.Identity()
    clips = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(backbone(clips).mean(dim=(2, 3, 4)), tv(clips),
                                   rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match='not a key of torchvision r3d_18'):
        torchvision_to_resnet3d({'blocks.0.weight': torch.zeros(1)})


def _saved_method(tmp_path) -> tuple[torch.nn.Module, Path]:
    cfg = Config.fromfile(str(RANDOM_INIT))
    model = pt.init_untrained(cfg, 7).eval()
    weights = tmp_path / 'CVRL-0000' / 'seed0' / 'final_weights.pth'
    pt.save_weights(model, weights, cfg.model.to_dict())
    return model, weights


def _recognizer(cfg: dict) -> torch.nn.Module:
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def test_mmaction2_export_loads_into_a_plain_recognizer3d(tmp_path):
    model, weights = _saved_method(tmp_path)
    exported, snippet = export_checkpoint(weights, 'mmaction2', out=tmp_path / 'export')
    assert exported.name == 'CVRL-0000-seed0_mmaction2.pth'
    cfg = Config.fromfile(str(snippet))
    clips = torch.randint(0, 256, (2, 3, 8, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        ours = model.extract_feat(model.data_preprocessor({'inputs': clips})['inputs'])

    def features(recognizer):
        recognizer.eval()
        data = recognizer.data_preprocessor(
            {'inputs': [c[None] for c in clips], 'data_samples': None}, False)
        with torch.no_grad():
            return recognizer.extract_feat(data['inputs'], stage='backbone')[0].mean(dim=(2, 3, 4))

    # 1. the model alone: built from the snippet and initialised (the backbone's `pretrained`)
    recognizer = _recognizer(cfg.model)
    recognizer.init_weights()
    torch.testing.assert_close(features(recognizer), ours, rtol=1e-5, atol=1e-5)
    # 2. the Runner's load_from: mmengine's load_checkpoint, non-strict; only the head is new
    cfg.model.backbone.pretrained = None
    recognizer = _recognizer(cfg.model)
    recognizer.init_weights()
    assert not torch.allclose(features(recognizer), ours, atol=1e-3)  # not loaded yet
    state = load_checkpoint(recognizer, cfg.load_from, map_location='cpu', strict=False)
    assert set(state['state_dict']) == {k for k in recognizer.state_dict()
                                        if k.startswith('backbone.')}
    torch.testing.assert_close(features(recognizer), ours, rtol=1e-5, atol=1e-5)


def _eval(path, tiny_data, tmp_path, fmt, name):
    return main(['eval', str(path), '--suite', str(TINY), '--format', fmt, '--name', name,
                 '--data-root', str(tiny_data), '--out', str(tmp_path / 'out'),
                 '--work-dir', str(tmp_path / 'work')])


def test_eval_of_torchvision_and_mmaction2_checkpoints_gives_leaderboard_rows(tiny_data,
                                                                               tmp_path, capsys):
    tv = tmp_path / 'r3d_18.pth'
    torch.save(_r3d18().state_dict(), tv)
    _, weights = _saved_method(tmp_path)
    exported, _ = export_checkpoint(weights, 'mmaction2', out=tmp_path / 'export')
    assert _eval(tv, tiny_data, tmp_path, 'torchvision', 'r3d18-tv') == 0
    # progress over the seeds, as a suite run shows it (plain lines when not on a terminal)
    assert '[1/1] r3d18-tv seed 0 done' in capsys.readouterr().out
    assert _eval(exported, tiny_data, tmp_path, 'mmaction2', 'exported-mm') == 0
    board = read_json(tmp_path / 'out' / 'leaderboard.json')
    rows = {(r['method'], r['protocol']) for r in board['rows']}
    for name in ('r3d18-tv', 'exported-mm'):
        assert {(name, p) for p in ('linear', 'knn', 'retrieval', 'semisup', 'finetune')} <= rows
    record = read_json(tmp_path / 'out/runs/r3d18-tv/seed0/linear.json')
    assert record['weights_from']['path'] == str(tv)
    assert record['weights_from']['format'] == 'torchvision'
    assert record['pretrain']['budget'] == {'unit': 'external checkpoint'}
    # the export's meta gives the architecture and normalisation it was trained with
    linear = read_json(tmp_path / 'out/runs/exported-mm/seed0/linear.json')
    assert linear['weights_from']['format'] == 'mmaction2'
    # a checkpoint that does not fit the architecture: one line naming the fix
    assert _eval(tv, tiny_data, tmp_path, 'vssl', 'wrong') == 2


def test_train_then_export_from_the_command_line(tiny_data, tmp_path, capsys):
    config = ROOT / 'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py'
    assert main(['train', str(config), '--budget', 'train_flops=1e10', '--data-root',
                 str(tiny_data), '--work-dir', str(tmp_path / 'cvrl'), '--cfg-options',
                 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
                 'train_dataloader.persistent_workers=False']) == 0
    weights = tmp_path / 'cvrl' / 'final_weights.pth'
    assert weights.is_file() and (tmp_path / 'cvrl' / 'model_config.json').is_file()
    assert read_json(tmp_path / 'cvrl' / 'pretrain_stats.json')['iters'] >= 1
    assert main(['export', str(weights), '--to', 'mmaction2']) == 0
    out = capsys.readouterr().out
    assert 'mmaction2 checkpoint:' in out and (tmp_path / 'cvrl').glob('*_mmaction2.py')
    assert main(['train', str(config), '--budget', 'flops']) == 2  # one line, no traceback
    assert 'expected UNIT=VALUE' in capsys.readouterr().err
