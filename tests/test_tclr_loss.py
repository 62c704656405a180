"""TCLR's four loss terms against the released-code conventions: equal-logit sanity values of
docs/reference.md and explicit loop references on random embeddings."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from vssl_bench.methods.losses import nt_xent
from vssl_bench.methods.tclr import tclr_loss


def _dot(u, v) -> float:
    return float(sum(a * b for a, b in zip(u.tolist(), v.tolist())))


def _ce(logits: list[float], target: int) -> float:
    return math.log(sum(math.exp(x) for x in logits)) - logits[target]


def ref_nt_xent(xs, ys, tau: float) -> float:
    """NT-Xent written out: 2N anchors, partner positive, all other embeddings negatives."""
    z, n = list(xs) + list(ys), len(xs)
    total = 0.0
    for a in range(2 * n):
        others = [c for c in range(2 * n) if c != a]
        logits = [_dot(z[a], z[c]) / tau for c in others]
        total += _ce(logits, others.index((a + n) % (2 * n)))
    return total / (2 * n)


def ref_terms(g, l, s, tau: float) -> dict[str, float]:
    b, _, k, _ = l.shape
    sets = [[l[v, u, j] for v in range(b)] for u in range(2) for j in range(k)]
    ic_local = sum(ref_nt_xent(sets[p], sets[q], tau)
                   for p, q in itertools.permutations(range(2 * k), 2)) / k
    ll = sum(ref_nt_xent([l[v, 0, j] for j in range(k)], [l[v, 1, j] for j in range(k)], tau)
             for v in range(b))
    gl = 0.0
    for ga, la in itertools.product(range(2), range(2)):
        rows = 0.0
        for v, t in itertools.product(range(b), range(k)):
            rows += _ce([_dot(s[v, ga, t], l[v, la, j]) / tau for j in range(k)], t)
            rows += _ce([_dot(s[v, ga, j], l[v, la, t]) / tau for j in range(k)], t)
        gl += rows / (2 * b)
    return {'ic_global': ref_nt_xent(list(g[:, 0]), list(g[:, 1]), tau), 'ic_local': ic_local,
            'll': ll, 'gl': gl}


def test_nt_xent_orthogonal_by_hand():
    # tau 0.5, x = y = I_2: anchor x0 sees y0 -> 2 (positive), x1 -> 0, y1 -> 0.
    z = torch.eye(2)
    assert nt_xent(z, z.clone(), 0.5).item() == pytest.approx(math.log(math.exp(2) + 2) - 2)


def test_nt_xent_batched_matches_loop():
    torch.manual_seed(0)
    x, y = F.normalize(torch.randn(3, 5, 4), dim=-1), F.normalize(torch.randn(3, 5, 4), dim=-1)
    out = nt_xent(x, y, 0.3)
    assert out.shape == (3,)
    for i in range(3):
        assert out[i].item() == pytest.approx(ref_nt_xent(list(x[i]), list(y[i]), 0.3), rel=1e-5)


@pytest.mark.parametrize('b', [2, 5])
def test_equal_logits_give_reference_sanity_values(b):
    one = F.normalize(torch.ones(8), dim=0)
    g, l = one.expand(b, 2, 8), one.expand(b, 2, 4, 8)
    terms = tclr_loss(g, l, l.clone(), 0.1)
    assert terms['ic_global'].item() == pytest.approx(math.log(2 * b - 1), rel=1e-5)
    assert terms['ic_local'].item() == pytest.approx(14 * math.log(2 * b - 1), rel=1e-5)
    assert terms['ll'].item() == pytest.approx(b * math.log(7), rel=1e-5)
    assert terms['gl'].item() == pytest.approx(16 * math.log(4), rel=1e-5)


def test_terms_match_loop_reference_on_random_embeddings():
    torch.manual_seed(1)
    b, k, d = 3, 4, 6
    g = F.normalize(torch.randn(b, 2, d), dim=-1)
    l = F.normalize(torch.randn(b, 2, k, d), dim=-1)
    s = F.normalize(torch.randn(b, 2, k, d), dim=-1)
    terms = tclr_loss(g, l, s, 0.2)
    ref = ref_terms(g, l, s, 0.2)
    for name, value in ref.items():
        assert terms[name].item() == pytest.approx(value, rel=1e-5), name


def test_temporal_terms_prefer_aligned_steps():
    # GL is small when step t matches local clip t and large when the steps are reversed.
    l = torch.eye(4).expand(2, 2, 4, 4)
    aligned = tclr_loss(l[:, :, 0], l, l.clone(), 0.1)['gl']
    reversed_ = tclr_loss(l[:, :, 0], l, l.flip(2), 0.1)['gl']
    assert aligned.item() < 0.01 < 10 < reversed_.item()


def test_model_routes_views_and_time_steps(monkeypatch):
    """Global a/b are views 0/1, local quarter j under augmentation u is view 2 + 2j + u, and
    step t of the global feature map feeds s[:, u, t]."""
    from tests.test_methods import BACKBONE
    from vssl_bench.core.registry import MODELS, build
    from vssl_bench.methods import tclr
    model = build(MODELS, dict(type='TCLR',
                               backbone=dict(BACKBONE, temporal_strides=(1, 1, 1, 1))))
    class EveryOtherFrame(torch.nn.Module):  # (N, 3, 8, H, W) -> 4 time steps, features = input
        def forward(self, x):
            return x[:, :, ::2]

    model.backbone = EveryOtherFrame()
    model.embed = lambda x: x  # no head: see the pooled features themselves
    b, v, t = 2, 10, 8
    x = torch.zeros(b, v, 3, t, 4, 4)
    x[:, :, 0] = torch.arange(b).view(b, 1, 1, 1, 1).float()
    x[:, :, 1] = torch.arange(v).view(1, v, 1, 1, 1).float()
    x[:, :, 2] = torch.arange(t).view(1, 1, t, 1, 1).float()
    seen = {}
    monkeypatch.setattr(tclr, 'tclr_loss', lambda g, l, s, tau: seen.update(g=g, l=l, s=s) or
                        {name: torch.zeros(()) for name in model.TERMS})
    model(x, mode='loss')
    g, l, s = seen['g'], seen['l'], seen['s']
    assert g.shape == (b, 2, 3) and l.shape == (b, 2, 4, 3) and s.shape == (b, 2, 4, 3)
    for u in range(2):
        assert torch.all(g[:, u, 1] == u) and torch.all(g[:, u, 2] == 3)  # time-averaged 0..6
        for j in range(4):
            assert torch.all(l[:, u, j, 1] == 2 + 2 * j + u)
            assert torch.all(s[:, u, j, 1] == u) and torch.all(s[:, u, j, 2] == 2 * j)
    assert torch.all(l[1, :, :, 0] == 1) and torch.all(s[1, :, :, 0] == 1)


def _ddp_worker(rank: int, world: int, port: int, queue) -> None:
    import os

    import torch.distributed as dist

    from vssl_bench.methods.distributed import gather_with_grad
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(0)
    full = [torch.randn(4, 2, 6), torch.randn(4, 2, 4, 6), torch.randn(4, 2, 4, 6)]
    local = [x[rank * 2:(rank + 1) * 2].clone().requires_grad_(True) for x in full]
    g, l, s = (gather_with_grad(F.normalize(x, dim=-1))[0] for x in local)
    loss = sum(tclr_loss(g, l, s, 0.1).values())
    loss.backward()
    # DDP averages parameter gradients over ranks: what a rank feeds back, / world, must be
    # the gradient of the one-process loss of the global batch.
    queue.put((rank, loss.item(), [(x.grad / world).numpy() for x in local]))
    dist.destroy_process_group()


def test_gathered_global_batch_matches_one_process():
    from tests.test_cvrl_loss import run_ranks
    results = run_ranks(_ddp_worker)
    torch.manual_seed(0)
    full = [torch.randn(4, 2, 6).requires_grad_(True), torch.randn(4, 2, 4, 6).requires_grad_(True),
            torch.randn(4, 2, 4, 6).requires_grad_(True)]
    ref = sum(tclr_loss(*(F.normalize(x, dim=-1) for x in full), 0.1).values())
    ref.backward()
    for rank, loss, grads in results:
        assert loss == pytest.approx(ref.item(), rel=1e-5)
        for grad, x in zip(grads, full):
            torch.testing.assert_close(torch.from_numpy(grad), x.grad[rank * 2:(rank + 1) * 2],
                                       rtol=1e-4, atol=1e-6)


def test_gradients_are_bit_reproducible():
    """The four terms' gradients are identical over repeated backward passes. IC local used to
    index the sets with repeated indices, whose backward accumulated in a thread-dependent order
    on CPU (caught here at B = 12, and as TCLR runs that diverged between identical commands)."""
    torch.manual_seed(0)
    g = F.normalize(torch.randn(12, 2, 128), dim=-1)
    l = F.normalize(torch.randn(12, 2, 4, 128), dim=-1)
    s = F.normalize(torch.randn(12, 2, 4, 128), dim=-1)
    grads = []
    for _ in range(8):
        leaves = [t.clone().requires_grad_() for t in (g, l, s)]
        sum(tclr_loss(*leaves).values()).backward()
        grads.append(torch.cat([t.grad.flatten() for t in leaves]))
    assert all(torch.equal(grads[0], x) for x in grads[1:])
