"""Losses shared by the methods (and available to plugins), each a pure function of embeddings,
unit-tested against hand-computed values: SimCLR's NT-Xent and the negative cosine similarity of
SimSiam. Method-specific losses (CVRL's across ranks, TCLR's, rho-BYOL's, rho-MoCo's, VCOP's)
live beside their methods."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(x: torch.Tensor, y: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """SimCLR's NT-Xent between two sets, batched over leading dimensions.

    x, y: (..., N, D) L2-normalised embeddings; x_i and y_i are positives. Each of the 2N anchors
    of a set pair has its partner as positive and the 2N - 2 other embeddings of the two sets as
    negatives (itself excluded). Returns (...): the summed cross-entropy divided by 2N; with all
    logits equal it is log(2N - 1).
    """
    n = x.shape[-2]
    z = torch.cat([x, y], dim=-2)  # (..., 2N, D)
    logits = z @ z.transpose(-1, -2) / temperature
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    log_prob = logits.masked_fill(eye, float('-inf')).log_softmax(-1)
    partner = torch.arange(2 * n, device=z.device).roll(n)  # i <-> i + N
    return -log_prob.gather(-1, partner.expand(log_prob.shape[:-1]).unsqueeze(-1)).mean((-2, -1))


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """SimSiam's D: minus the mean cosine similarity of predictions to stop-gradient targets.

    p, z: (N, D) predictions of one view and projections of the other. Returns a scalar in
    [-1, 1] (-1: every prediction points along its target); no gradient flows into ``z``.
    """
    return -F.cosine_similarity(p, z.detach(), dim=1).mean()
