"""CVRL: Spatiotemporal Contrastive Video Representation Learning (Qian et al., CVPR 2021).

Two clips of one video, drawn by :class:`vssl_bench.data.samplers.CVRLIntervalSampler` (interval
density decreasing linearly) and augmented independently but consistently across each clip's
frames, are positives; every other clip of the global batch is a negative.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod, float32
from vssl_bench.methods.distributed import gather_with_grad
from vssl_bench.methods.heads import projection_mlp


def cvrl_loss(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.1,
              z_a_all: torch.Tensor | None = None, z_b_all: torch.Tensor | None = None,
              offset: int = 0) -> torch.Tensor:
    """CVRL's contrastive loss, both directions summed (released-code convention).

    z_a, z_b: (N, D) L2-normalised embeddings of the two clips of this rank's N videos.
    z_a_all, z_b_all: (M, D) embeddings of the global batch (defaults: z_a, z_b), in which this
        rank's rows start at ``offset``.
    For anchor i of view a the logits are [z_a,i . z_b,k / tau for every k] followed by
    [z_a,i . z_a,k / tau for k != i]; the target is k = i in the first block. The loss is the mean
    cross-entropy over the N anchors of a->b plus that of b->a: a scalar; with all logits equal it
    is 2 log(2M - 1).
    """
    z_a_all = z_a if z_a_all is None else z_a_all
    z_b_all = z_b if z_b_all is None else z_b_all
    n, m = z_a.shape[0], z_a_all.shape[0]
    target = torch.arange(n, device=z_a.device) + offset
    self_mask = F.one_hot(target, m).bool()

    def one_direction(anchor: torch.Tensor, other_all: torch.Tensor,
                      same_all: torch.Tensor) -> torch.Tensor:
        cross = anchor @ other_all.T / temperature
        same = (anchor @ same_all.T / temperature).masked_fill(self_mask, float('-inf'))
        return F.cross_entropy(torch.cat([cross, same], dim=1), target)

    return one_direction(z_a, z_b_all, z_a_all) + one_direction(z_b, z_a_all, z_b_all)


@MODELS.register_module()
class CVRL(VideoMethod):
    """CVRL (Qian et al., CVPR 2021): backbone + MLP head + contrastive loss over two clips.

    Input of ``loss``: (B, 2, 3, T, H, W) normalised clips. The head follows the paper: global
    average pool, ``num_hidden`` x (Linear -> BN -> ReLU), Linear -> ``proj_dim``; hidden width
    defaults to the backbone's feature width. Negatives are gathered across data-parallel ranks
    with gradient.
    """

    num_views = 2
    #: What the error for a wrong number of clips suggests.
    sampler_hint = 'use CVRLIntervalSampler'
    #: The loss (signature of :func:`cvrl_loss`) and its key in the loss dict.
    loss_fn = staticmethod(cvrl_loss)
    loss_key = 'loss_contrastive'

    def __init__(self, backbone: dict, proj_dim: int = 128, hidden_dim: int | None = None,
                 num_hidden: int = 3, temperature: float = 0.1, **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        self.head = projection_mlp(self.feat_dim, hidden_dim or self.feat_dim, proj_dim, num_hidden)
        self.temperature = temperature

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        b, v = inputs.shape[:2]
        if v != 2:
            raise UserError(f'{type(self).__name__} needs 2 clips per video, got {v}: '
                            f'{self.sampler_hint}')
        # One backbone pass over both clips keeps BN statistics shared, as in the released code.
        z = F.normalize(self.head(self.extract_feat(inputs.flatten(0, 1))).float(), dim=1)
        z = z.view(b, 2, -1)
        z_a, z_b = z[:, 0], z[:, 1]
        z_a_all, offset = gather_with_grad(z_a)
        z_b_all, _ = gather_with_grad(z_b)
        with float32(z.device):
            loss = self.loss_fn(z_a, z_b, self.temperature, z_a_all, z_b_all, offset)
        with torch.no_grad(), float32(z.device):
            pos = (z_a * z_b).sum(1).mean()
            sim = z_a @ z_b.T
            acc = (sim.argmax(1) == torch.arange(b, device=sim.device)).float().mean()
        return {self.loss_key: loss, 'sim_pos': pos, 'acc_pos': acc}
