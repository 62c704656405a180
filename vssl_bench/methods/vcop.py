"""VCOP: Self-supervised Spatiotemporal Learning via Video Clip Order Prediction (Xu et al.,
CVPR 2019): shuffle n clips of a video and classify which of the n! orders was applied."""
from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod


def shuffle_clips(clips: torch.Tensor, perms: torch.Tensor,
                  labels: torch.Tensor) -> torch.Tensor:
    """clips: (B, n, ...) in temporal order; perms: (n!, n) every permutation of range(n);
    labels: (B,) int64 indices into perms. Returns (B, n, ...) with position p of video b holding
    clip ``perms[labels[b], p]``."""
    order = perms[labels]  # (B, n)
    return clips[torch.arange(clips.shape[0], device=clips.device).unsqueeze(1), order]


def vcop_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B, n!) order logits and (B,) true permutation indices -> mean cross-entropy (float32)."""
    return F.cross_entropy(logits.float(), labels)


@MODELS.register_module()
class VCOP(VideoMethod):
    """VCOP (Xu et al., CVPR 2019): clip order prediction.

    Input of ``loss``: (B, n, 3, T, H, W) normalised clips in temporal order
    (``OrderedClipsSampler``, n = ``num_clips``, 3 in the paper). Each video's clips are shuffled
    by a permutation drawn from torch's global RNG (deterministic under mmengine's seeding); the
    shared backbone's pooled features of every pair (i < j) of shuffled positions are
    concatenated and passed through Linear -> ReLU (width ``hidden_dim``, default the backbone's;
    the paper uses 512 on 512-d features), the n(n-1)/2 pair codes are concatenated, dropped out
    (p 0.5 as in the paper) and classified into the n! orders.
    """

    def __init__(self, backbone: dict, num_clips: int = 3, hidden_dim: int | None = None,
                 dropout: float = 0.5, **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        self.num_views = num_clips
        hidden = hidden_dim or self.feat_dim
        self.register_buffer('perms', torch.tensor(list(itertools.permutations(range(num_clips)))),
                             persistent=False)
        self.pair_mlp = nn.Sequential(nn.Linear(2 * self.feat_dim, hidden), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(math.comb(num_clips, 2) * hidden, math.factorial(num_clips))

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        b, n = inputs.shape[:2]
        if n != self.num_views:
            raise UserError(f'VCOP needs {self.num_views} clips per video, got {n}: use '
                            f'OrderedClipsSampler(num_clips={self.num_views})')
        labels = torch.randint(len(self.perms), (b,), device=inputs.device)
        shuffled = shuffle_clips(inputs, self.perms, labels)
        feats = self.extract_feat(shuffled.flatten(0, 1)).view(b, n, -1)
        i, j = torch.triu_indices(n, n, 1, device=inputs.device)
        pairs = self.pair_mlp(torch.cat([feats[:, i], feats[:, j]], dim=-1))  # (B, pairs, H)
        logits = self.classifier(self.dropout(pairs.flatten(1)))
        loss = vcop_loss(logits, labels)
        acc = (logits.argmax(1) == labels).float().mean()
        return {'loss_order': loss, 'acc': acc}
