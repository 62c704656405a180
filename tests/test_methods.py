"""Contracts of every registered method: finite loss that back-propagates, (B, D) features."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from vssl_bench.core.precision import effective_dtype
from vssl_bench.core.registry import MODELS, build
from vssl_bench.engine.pretrain import registered_methods
from vssl_bench.harness.components import load_plugins

load_plugins()

ROOT = Path(__file__).resolve().parents[1]
BACKBONE = Config.fromfile(str(ROOT / 'configs/_base_/backbone_r3d18_w16.py')).model.backbone
# Per-method constructor arguments; the clips per video come from the model's num_views.
# TCLR needs a backbone that leaves 4 time steps of an 8-frame clip (the suites' backbone does).
EXTRA = {'Supervised': dict(num_classes=3),
         'TCLR': dict(backbone=dict(BACKBONE, temporal_strides=(1, 1, 1, 1)))}


def _inputs(b: int, v: int) -> dict:
    g = torch.Generator().manual_seed(0)
    return {'inputs': torch.randint(0, 256, (b, v, 3, 8, 32, 32), dtype=torch.uint8, generator=g),
            'data_samples': torch.tensor([0, 1, 2, 0][:b])}


@pytest.mark.parametrize('name', sorted(registered_methods()))
def test_method_contract(name):
    torch.manual_seed(0)
    model = build(MODELS, dict(type=name, backbone=BACKBONE) | EXTRA.get(name, {}))
    model.init_weights()
    data = model.data_preprocessor(_inputs(4, model.num_views), True)
    feats = model(data['inputs'][:, 0], mode='tensor')
    assert feats.shape == (4, model.feat_dim) and torch.isfinite(feats).all()
    if not model.trainable:
        with pytest.raises(NotImplementedError):
            model(data['inputs'], data['data_samples'], mode='loss')
        return
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    total, _ = model.parse_losses(losses)
    assert total.dim() == 0 and torch.isfinite(total)
    total.backward()
    # Every parameter the optimiser trains gets a gradient (a head left out of the loss, or a
    # detach in the wrong place, would silently train nothing), and the backbone's is non-zero.
    # Parameters that do not require one (momentum targets) are updated otherwise.
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == [], f'{name}: no gradient reaches {missing}'
    assert any(p.grad.abs().sum() > 0 for p in model.backbone.parameters())


def test_predict_mode_is_refused():
    model = build(MODELS, dict(type='RandomInit', backbone=BACKBONE))
    with pytest.raises(ValueError, match='prediction belongs to the evaluation protocols'):
        model(torch.zeros(1, 3, 8, 32, 32), mode='predict')


def test_preprocessor_normalises():
    model = build(MODELS, dict(type='RandomInit', backbone=BACKBONE))
    x = torch.full((1, 1, 3, 2, 2, 2), 255, dtype=torch.uint8)
    out = model.data_preprocessor({'inputs': x, 'data_samples': None})['inputs']
    torch.testing.assert_close(out, torch.full_like(out, (1 - 0.45) / 0.225))


def test_cvrl_needs_two_clips():
    model = build(MODELS, dict(type='CVRL', backbone=BACKBONE))
    data = model.data_preprocessor(_inputs(2, 1), True)
    with pytest.raises(ValueError, match='2 clips per video'):
        model(data['inputs'], mode='loss')


def test_losses_are_float32_under_bfloat16_autocast():
    # AutocastOptimWrapper trains under bfloat16 autocast; the loss matmuls must not follow it.
    torch.manual_seed(0)
    model = build(MODELS, dict(type='CVRL', backbone=BACKBONE))
    data = model.data_preprocessor(_inputs(4, 2), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        z = torch.nn.functional.normalize(torch.randn(4, 2, 16), dim=-1)
        model.head = torch.nn.Identity()
        model.extract_feat = lambda x: z.flatten(0, 1)
        loss = model(data['inputs'], mode='loss')['loss_contrastive']
    from vssl_bench.methods.cvrl import cvrl_loss
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(cvrl_loss(z[:, 0], z[:, 1]).item(), rel=1e-6)


@pytest.mark.parametrize('name', sorted(registered_methods()))
def test_training_step_is_reproducible(name):
    """The same weights, batch and RNG state give bit-identical gradients (what "same command,
    same seed, same numbers" rests on: no unseeded draw, no order-dependent accumulation at this
    size; tests/test_tclr_loss.py checks TCLR's loss at a size where one showed). In the
    precision the harness trains in on this CPU: bfloat16 autocast where it is native, float32
    where oneDNN would emulate it (many times slower, and never what a run uses there)."""
    import copy
    dtype = effective_dtype('bfloat16', 'cpu')
    torch.manual_seed(0)
    model = build(MODELS, dict(type=name, backbone=BACKBONE) | EXTRA.get(name, {}))
    if not model.trainable:
        pytest.skip(f'{name} does not train')
    model.init_weights()
    batch = _inputs(4, model.num_views)
    grads = []
    for _ in range(2):
        probe = copy.deepcopy(model)
        torch.manual_seed(1)  # methods that draw (VCOP's permutations) draw the same
        data = probe.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=dtype == 'bfloat16'):
            losses = probe(data['inputs'], data['data_samples'], mode='loss')
        probe.parse_losses(losses)[0].backward()
        grads.append(torch.cat([p.grad.flatten() for p in probe.parameters()
                                if p.grad is not None]))
    assert all(torch.equal(grads[0], g) for g in grads[1:])
