"""SimCLR on single frames, inflated (the "SimCLR on frames" baseline of CVRL, Qian et al.,
CVPR 2021; SimCLR: Chen et al., ICML 2020): appearance-only contrastive learning, no motion."""
from __future__ import annotations

import torch

from vssl_bench.core.registry import MODELS
from vssl_bench.methods.cvrl import CVRL, cvrl_loss


def simclr_loss(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float = 0.1,
                z_a_all: torch.Tensor | None = None, z_b_all: torch.Tensor | None = None,
                offset: int = 0) -> torch.Tensor:
    """SimCLR's NT-Xent: the mean over all 2N anchors (both views) of the cross-entropy of the
    partner against the 2M - 2 other embeddings of the global batch, itself excluded.

    Arguments and shapes as :func:`vssl_bench.methods.cvrl.cvrl_loss`, whose logits are the same:
    CVRL sums the two directions' means, so NT-Xent is half of it. With all logits equal:
    log(2M - 1).
    """
    return cvrl_loss(z_a, z_b, temperature, z_a_all, z_b_all, offset) / 2


@MODELS.register_module()
class FrameSimCLR(CVRL):
    """SimCLR on frames: CVRL's model (backbone, 3-layer head, global-batch negatives, tau 0.1)
    fed two augmented views of ONE frame repeated in time (``FrameSampler`` with
    ``views_per_clip=2``), trained with NT-Xent (:func:`simclr_loss`). Keeping CVRL's head and
    temperature makes the pair an ablation of what temporal clips add, as in CVRL's table.
    """

    sampler_hint = 'use FrameSampler(num_clips=1) with views_per_clip=2'
    loss_fn = staticmethod(simclr_loss)
    loss_key = 'loss_nt_xent'
