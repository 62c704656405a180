"""rho-MoCo (Feichtenhofer et al., "A Large-Scale Study on Unsupervised Spatiotemporal
Representation Learning", CVPR 2021): MoCo v2 with rho clips of a video as the views."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import float32
from vssl_bench.methods.distributed import gather_no_grad
from vssl_bench.methods.momentum import MomentumMethod


def rho_moco_loss(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor,
                  temperature: float = 0.1) -> torch.Tensor:
    """InfoNCE of every clip's query against every other clip's key, negatives from a queue.

    q: (B, rho, D) L2-normalised queries; k: (B, rho, D) L2-normalised keys (no gradient);
    queue: (K, D) L2-normalised negatives. For each ordered pair i != j the logits of query q_i
    are [q_i . k_j, q_i . queue_1, ..., q_i . queue_K] / tau with target 0. Returns the scalar sum
    over the rho (rho - 1) ordered pairs of the mean cross-entropy over videos (rho = 2: MoCo's
    symmetrised loss); with all logits equal it is rho (rho - 1) log(K + 1).
    """
    rho = q.shape[1]
    pairs = (~torch.eye(rho, dtype=torch.bool, device=q.device)).nonzero()  # (P, 2): i, j
    pos = (q[:, pairs[:, 0]] * k[:, pairs[:, 1]]).sum(-1, keepdim=True)  # (B, P, 1)
    neg = (q @ queue.T)[:, pairs[:, 0]]  # (B, P, K)
    logits = torch.cat([pos, neg], dim=-1) / temperature
    return -logits.log_softmax(-1)[..., 0].sum(1).mean()


@MODELS.register_module()
class RhoMoCo(MomentumMethod):
    """rho-MoCo: queries from the online backbone + projector, keys from its EMA copy (see
    :class:`MomentumMethod`), negatives from a queue of past keys.

    Input of ``loss``: (B, rho, 3, T, H, W) normalised clips (``RandomClipSampler(num_clips=rho)``).
    After each step the keys of every video's first clip, gathered across data-parallel ranks
    without gradient, replace the oldest ``queue_size`` entries (one entry per video, so the
    queue holds ``queue_size`` different videos' clips). Temperature 0.1 (MoCo v2 uses 0.2) to
    match CVRL, TCLR and SimCLR here. MoCo's shuffling BN is not implemented (it needs several
    devices); the projector's BN over the batch is what MoCo v3 / BYOL also run with.
    """

    def __init__(self, backbone: dict, proj_dim: int = 128, queue_size: int = 1024,
                 temperature: float = 0.1, **kwargs) -> None:
        super().__init__(backbone=backbone, proj_dim=proj_dim, **kwargs)
        self.temperature = temperature
        self.register_buffer('queue', F.normalize(torch.randn(queue_size, proj_dim), dim=1))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """(N, D) keys -> the queue, overwriting the oldest entries (ring buffer)."""
        keys = keys[-self.queue.shape[0]:]
        idx = (self.queue_ptr + torch.arange(keys.shape[0], device=keys.device)) % len(self.queue)
        self.queue[idx] = keys.to(self.queue.dtype)
        self.queue_ptr.copy_((self.queue_ptr + keys.shape[0]) % len(self.queue))

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        online, k = self.online_and_target(inputs)
        q = F.normalize(online.float(), dim=1).view(k.shape)
        with float32(q.device):
            loss = rho_moco_loss(q, k, self.queue.clone(), self.temperature)
        with torch.no_grad(), float32(q.device):
            pos = (q[:, 0] * k[:, 1]).sum(-1)
            acc = (pos > (q[:, 0] @ self.queue.T).max(1).values).float().mean()
        if self.training:
            self.enqueue(gather_no_grad(k[:, 0]))
        return {'loss_moco': loss, 'acc_pos': acc, 'sim_pos': pos.mean()}
