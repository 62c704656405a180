"""TCLR's four loss terms against the released-code conventions: equal-logit sanity values of
shared/REFERENCE.md and explicit loop references on random embeddings."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from methods.tclr import nt_xent, tclr_loss


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
