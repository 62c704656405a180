"""Losses and mechanics of the baselines: SimCLR on frames, rho-BYOL, rho-MoCo, VCOP."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from tests.test_methods import BACKBONE, ROOT
from vssl_bench.core.registry import MODELS, build
from vssl_bench.harness.components import load_plugins
from vssl_bench.methods.frame_simclr import simclr_loss
from vssl_bench.methods.heads import predictor_mlp
from vssl_bench.methods.losses import negative_cosine, nt_xent
from vssl_bench.methods.momentum import cosine_momentum
from vssl_bench.methods.rho_byol import rho_byol_loss
from vssl_bench.methods.rho_moco import rho_moco_loss
from vssl_bench.methods.vcop import shuffle_clips, vcop_loss

load_plugins()


def test_simclr_loss_is_nt_xent():
    torch.manual_seed(0)
    za, zb = F.normalize(torch.randn(6, 8), dim=1), F.normalize(torch.randn(6, 8), dim=1)
    assert simclr_loss(za, zb, 0.1).item() == pytest.approx(nt_xent(za, zb, 0.1).item(), rel=1e-6)
    z = torch.eye(2)  # tau 0.5 by hand: positive 2, two negatives 0
    assert simclr_loss(z, z, 0.5).item() == pytest.approx(math.log(math.exp(2) + 2) - 2)
    same = F.normalize(torch.ones(5, 4), dim=1)
    assert simclr_loss(same, same, 0.1).item() == pytest.approx(math.log(9), rel=1e-5)


def test_rho_byol_loss_by_hand():
    p = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])
    z = torch.tensor([[[0.8, 0.6], [0.0, 1.0]]])
    # Pairs (0, 1): 2 - 2 * 0 = 2; (1, 0): 2 - 2 * (0.48 + 0.48) = 0.08.
    assert rho_byol_loss(p, z).item() == pytest.approx(2.08, rel=1e-6)


def test_rho_byol_loss_matches_loop_for_rho_3():
    torch.manual_seed(0)
    p, z = F.normalize(torch.randn(4, 3, 5), dim=-1), F.normalize(torch.randn(4, 3, 5), dim=-1)
    ref = sum(2 - 2 * float(p[b, i] @ z[b, j])
              for b in range(4) for i, j in itertools.permutations(range(3), 2)) / 4
    assert rho_byol_loss(p, z).item() == pytest.approx(ref, rel=1e-5)


def test_rho_moco_loss_by_hand_and_equal_logits():
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    queue = torch.tensor([[1.0, 0.0]])
    # tau 1. Pair (0, 1): logits [q0.k1, q0.n] = [0, 1]; pair (1, 0): [q1.k0, q1.n] = [0, 0].
    expected = math.log(1 + math.e) + math.log(2)
    assert rho_moco_loss(q, q.clone(), queue, 1.0).item() == pytest.approx(expected, rel=1e-6)
    one = F.normalize(torch.ones(3, 3, 4), dim=-1)
    out = rho_moco_loss(one, one, one[0, :1].expand(7, 4), 0.1)
    assert out.item() == pytest.approx(6 * math.log(8), rel=1e-5)


def test_rho_moco_loss_matches_loop_for_rho_3():
    torch.manual_seed(0)
    q, k = F.normalize(torch.randn(2, 3, 5), dim=-1), F.normalize(torch.randn(2, 3, 5), dim=-1)
    queue = F.normalize(torch.randn(6, 5), dim=-1)
    ref = 0.0
    for b, (i, j) in itertools.product(range(2), itertools.permutations(range(3), 2)):
        logits = [float(q[b, i] @ k[b, j]) / 0.2] + [float(q[b, i] @ n) / 0.2 for n in queue]
        ref += math.log(sum(math.exp(x) for x in logits)) - logits[0]
    assert rho_moco_loss(q, k, queue, 0.2).item() == pytest.approx(ref / 2, rel=1e-5)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0.99, 0, 100) == pytest.approx(0.99)
    assert cosine_momentum(0.99, 50, 100) == pytest.approx(0.995)
    assert cosine_momentum(0.99, 100, 100) == pytest.approx(1.0)


@pytest.mark.parametrize('name', ['RhoBYOL', 'RhoMoCo'])
def test_target_is_ema_of_online_without_grad(name):
    torch.manual_seed(0)
    model = build(MODELS, dict(type=name, backbone=BACKBONE, momentum_schedule='constant'))
    model.init_weights()
    online, target = model._online_params(), model._target_params()
    assert all(torch.equal(a, b) for a, b in zip(online, target))
    assert not any(p.requires_grad for p in target)
    before = [p.clone() for p in target]
    with torch.no_grad():
        for p in online:
            p.add_(1.0)
    model.update_target(0.9)
    for b, a, p in zip(before, target, online):
        torch.testing.assert_close(a, 0.9 * b + 0.1 * p)


def test_moco_queue_is_a_ring_buffer():
    model = build(MODELS, dict(type='RhoMoCo', backbone=BACKBONE, queue_size=5, proj_dim=2))
    model.enqueue(torch.tensor([[1.0, 0], [2, 0], [3, 0]]))
    model.enqueue(torch.tensor([[4.0, 0], [5, 0], [6, 0]]))
    assert model.queue[:, 0].tolist() == [6, 2, 3, 4, 5] and int(model.queue_ptr) == 1


def test_vcop_shuffle_and_loss_by_hand():
    perms = torch.tensor(list(itertools.permutations(range(3))))
    clips = torch.tensor([[10, 11, 12], [20, 21, 22]])
    labels = torch.tensor([0, 5])  # identity; (2, 1, 0)
    assert shuffle_clips(clips, perms, labels).tolist() == [[10, 11, 12], [22, 21, 20]]
    assert vcop_loss(torch.zeros(2, 6), labels).item() == pytest.approx(math.log(6))
    logits = torch.tensor([[math.log(3), 0, 0, 0, 0, 0]])  # p(label 0) = 3 / 8
    assert vcop_loss(logits, torch.tensor([0])).item() == pytest.approx(math.log(8 / 3))


def test_vcop_permutations_follow_torch_seed():
    model = build(MODELS, dict(type='VCOP', backbone=BACKBONE))
    x = torch.randn(4, 3, 3, 8, 16, 16)
    accs = []
    for _ in range(2):
        torch.manual_seed(3)
        model.train()
        accs.append(model(x, mode='loss')['loss_order'].item())
    assert accs[0] == accs[1]


def test_tclr_refuses_a_backbone_that_loses_the_time_steps():
    strided = dict(BACKBONE, temporal_strides=(1, 2, 2, 2))  # 1 time step left
    model = build(MODELS, dict(type='TCLR', backbone=strided))
    with pytest.raises(ValueError, match='keep 4 time steps.*temporal_strides'):
        model(torch.randn(2, 10, 3, 8, 16, 16), mode='loss')
    cfg = Config.fromfile(str(ROOT / 'configs/methods/tclr_r3d18w16_8x4_synthmotion.py'))
    assert tuple(cfg.model.backbone.temporal_strides) == (1, 1, 1, 1)


def test_negative_cosine_values_and_stop_gradient():
    p = torch.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    assert negative_cosine(p, p.detach() * 3).item() == pytest.approx(-1.0)
    z = torch.tensor([[0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    # cos = 0 for the first row, 1/sqrt(2) for the second: mean -> -1 / (2 sqrt 2)
    loss = negative_cosine(p, z)
    assert loss.item() == pytest.approx(-1 / (2 * math.sqrt(2)))
    loss.backward()
    assert z.grad is None and p.grad is not None


def test_predictor_mlp_is_a_bottleneck_back_to_its_width():
    head = predictor_mlp(16, 4)
    assert [type(m).__name__ for m in head] == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    assert (head[0].in_features, head[0].out_features) == (16, 4)
    assert (head[3].in_features, head[3].out_features) == (4, 16)
    assert head(torch.randn(5, 16)).shape == (5, 16)
