"""rho-BYOL (Feichtenhofer et al., "A Large-Scale Study on Unsupervised Spatiotemporal
Representation Learning", CVPR 2021): BYOL with rho clips of a video as the views, no negatives."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import float32
from vssl_bench.methods.heads import predictor_mlp
from vssl_bench.methods.momentum import MomentumMethod


def rho_byol_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """BYOL's regression loss over every ordered pair of different clips.

    p: (B, rho, D) L2-normalised online predictions; z: (B, rho, D) L2-normalised target
    projections (no gradient). Returns the scalar sum over the rho (rho - 1) ordered pairs
    i != j of the mean over videos of 2 - 2 p_i . z_j: for rho = 2 this is BYOL's symmetrised
    loss (both directions summed), in [0, 4 rho (rho - 1)].
    """
    rho = p.shape[1]
    sim = torch.einsum('bid,bjd->bij', p, z)
    off_diagonal = ~torch.eye(rho, dtype=torch.bool, device=p.device)
    return (2 - 2 * sim[:, off_diagonal]).sum(1).mean()


@MODELS.register_module()
class RhoBYOL(MomentumMethod):
    """rho-BYOL: online backbone + projector + predictor regress the EMA target's projection of
    every other clip of the same video (see :class:`MomentumMethod` for the target and momentum).

    Input of ``loss``: (B, rho, 3, T, H, W) normalised clips (``RandomClipSampler(num_clips=rho)``).
    The predictor is Linear -> BN -> ReLU -> Linear at the projector's widths. Without negatives
    nothing needs gathering across data-parallel ranks.
    """

    def __init__(self, backbone: dict, proj_dim: int = 128, hidden_dim: int | None = None,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, proj_dim=proj_dim, hidden_dim=hidden_dim, **kwargs)
        self.predictor = predictor_mlp(proj_dim, hidden_dim or 4 * self.feat_dim)

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        online, target = self.online_and_target(inputs)
        p = F.normalize(self.predictor(online).float(), dim=1).view(target.shape)
        with float32(p.device):
            loss = rho_byol_loss(p, target)
        with torch.no_grad(), float32(p.device):
            sim = (p.unsqueeze(2) * target.unsqueeze(1)).sum(-1)  # (B, rho, rho)
            pos = sim[:, ~torch.eye(sim.shape[1], dtype=torch.bool)].mean()
        return {'loss_byol': loss, 'sim_pos': pos, 'momentum': torch.tensor(self.momentum())}
