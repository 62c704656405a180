"""CVRL's loss against hand-computed values, and its data-parallel form against one process."""
import math
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from vssl_bench.methods.cvrl import cvrl_loss
from vssl_bench.methods.distributed import gather_with_grad


def test_orthogonal_case_by_hand():
    # tau = 0.5: anchor a0 = (1, 0) sees b0 = (1, 0) -> 2, b1 = (0, 1) -> 0, a1 = (0, 1) -> 0.
    z = torch.eye(2)
    expected = 2 * (math.log(math.exp(2) + 2) - 2)
    assert cvrl_loss(z, z.clone(), temperature=0.5).item() == pytest.approx(expected, rel=1e-6)


def test_asymmetric_case_by_hand():
    za = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    zb = torch.tensor([[0.8, 0.6], [0.0, 1.0]])
    # tau = 1. Logits of anchor a_i: [a_i.b_0, a_i.b_1, a_i.a_k (k != i)], target b_i.
    a0 = [0.8, 0.0, 0.6]            # a0.b0, a0.b1, a0.a1
    a1 = [0.48 + 0.48, 0.8, 0.6]    # a1.b0, a1.b1, a1.a0
    b0 = [0.8, 0.48 + 0.48, 0.6]    # b0.a0, b0.a1, b0.b1
    b1 = [0.0, 0.8, 0.6]            # b1.a0, b1.a1, b1.b0

    def ce(logits, target):
        return math.log(sum(math.exp(x) for x in logits)) - logits[target]

    expected = (ce(a0, 0) + ce(a1, 1)) / 2 + (ce(b0, 0) + ce(b1, 1)) / 2
    assert cvrl_loss(za, zb, temperature=1.0).item() == pytest.approx(expected, rel=1e-6)


def test_equal_logits_give_two_log_two_n_minus_one():
    n = 5
    z = F.normalize(torch.ones(n, 8), dim=1)
    assert cvrl_loss(z, z, 0.1).item() == pytest.approx(2 * math.log(2 * n - 1), rel=1e-5)


def test_global_batch_slice_matches_full_loss():
    # The loss of a rank's anchors against the global batch, averaged over ranks, is the loss of
    # the global batch (what gathered negatives must give).
    torch.manual_seed(0)
    za, zb = F.normalize(torch.randn(8, 16), dim=1), F.normalize(torch.randn(8, 16), dim=1)
    full = cvrl_loss(za, zb, 0.1)
    halves = [cvrl_loss(za[i:i + 4], zb[i:i + 4], 0.1, za, zb, offset=i) for i in (0, 4)]
    assert torch.stack(halves).mean().item() == pytest.approx(full.item(), rel=1e-6)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, queue) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(0)
    za, zb = torch.randn(8, 16), torch.randn(8, 16)
    local_a = za[rank * 4:(rank + 1) * 4].clone().requires_grad_(True)
    local_b = zb[rank * 4:(rank + 1) * 4].clone().requires_grad_(True)
    na, nb = F.normalize(local_a, dim=1), F.normalize(local_b, dim=1)
    all_a, offset = gather_with_grad(na)
    all_b, _ = gather_with_grad(nb)
    loss = cvrl_loss(na, nb, 0.1, all_a, all_b, offset)
    loss.backward()
    # DistributedDataParallel averages parameter gradients over ranks, so what each rank's
    # embeddings feed back must be world x the gradient of the global-batch loss.
    grad = torch.cat([local_a.grad, local_b.grad]) / world
    queue.put((rank, loss.item(), grad.numpy()))
    dist.destroy_process_group()


def run_ranks(worker, world: int = 2) -> list:
    """Run ``worker(rank, world, port, queue)`` in ``world`` spawned processes (gloo on
    127.0.0.1:port); returns what the workers put on the queue, sorted (by rank first)."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=worker, args=(r, world, port, queue)) for r in range(world)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def test_gathered_negatives_match_one_process():
    results = run_ranks(_worker)

    torch.manual_seed(0)
    za = torch.randn(8, 16).requires_grad_(True)
    zb = torch.randn(8, 16).requires_grad_(True)
    ref = cvrl_loss(F.normalize(za, dim=1), F.normalize(zb, dim=1), 0.1)
    ref.backward()
    assert sum(r[1] for r in results) / 2 == pytest.approx(ref.item(), rel=1e-5)
    for rank, _, grad in results:
        rows = slice(rank * 4, (rank + 1) * 4)
        expected = torch.cat([za.grad[rows], zb.grad[rows]])
        torch.testing.assert_close(torch.from_numpy(grad), expected, rtol=1e-4, atol=1e-6)
