"""TCLR: Temporal Contrastive Learning for Video Representation (Dave et al., CVIU 2022).

Each video gives one global clip and four local clips (its window's quarters), every clip
augmented twice (:class:`vssl_bench.data.samplers.TCLRSampler`, ``views_per_clip=2``). Four terms,
conventions of the released code (see docs/reference.md, TCLR): instance contrast of the global
clips (IC global) and of the local clips (IC local), local-local temporal contrast (LL: the
quarters of one video are each other's negatives) and global-local temporal contrast (GL: the
global clip's t-th time step must match the t-th local clip).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod, float32
from vssl_bench.methods.distributed import gather_with_grad
from vssl_bench.methods.losses import nt_xent


def tclr_loss(g: torch.Tensor, l: torch.Tensor, s: torch.Tensor,
              temperature: float = 0.1) -> dict[str, torch.Tensor]:
    """The four TCLR terms on one (global) batch of B videos, K local clips each.

    g: (B, 2, D) global-clip embeddings under augmentations a, b.
    l: (B, 2, K, D) local-clip embeddings [augmentation, quarter].
    s: (B, 2, K, D) embeddings of the global clip's K time steps [augmentation, step].
    All L2-normalised. Returns scalars:
      ic_global = NT-Xent(g_a, g_b)                                 (all equal: log(2B - 1))
      ic_local  = (1 / K) sum over the 2K(2K - 1) ordered pairs of distinct (augmentation,
                  quarter) sets of NT-Xent(set, other set)         (K = 4: 14 log(2B - 1))
      ll        = sum over videos of NT-Xent(l_a, l_b) with "batch" K   (B log(2K - 1))
      gl        = for each of the 4 (global aug, local aug) pairings, the K-way cross-entropies
                  of every row of S = s l^T / tau and of S^T (target: the diagonal), summed and
                  divided by 2B; the 4 pairings summed                (16 log K)
    """
    b, _, k, d = l.shape
    sets = l.flatten(1, 2).transpose(0, 1)  # (2K, B, D)
    # Every ordered pair of sets by broadcasting (the diagonal is computed and masked out):
    # the gradient then flows through expand's deterministic sum, where indexing with repeated
    # indices (sets[i]) accumulated its gradient in a thread-dependent order on CPU and made
    # training irreproducible.
    pairs = nt_xent(sets.unsqueeze(1).expand(2 * k, 2 * k, b, d),
                    sets.unsqueeze(0).expand(2 * k, 2 * k, b, d), temperature)  # (2K, 2K)
    off_diagonal = ~torch.eye(2 * k, dtype=torch.bool, device=l.device)
    sim = torch.einsum('bgtd,bljd->bgltj', s, l) / temperature  # (B, 2, 2, K, K)
    target = torch.arange(k, device=l.device).expand(*sim.shape[:-1])
    gl = (F.cross_entropy(sim.flatten(0, -2), target.flatten(), reduction='sum')
          + F.cross_entropy(sim.transpose(-1, -2).flatten(0, -2), target.flatten(),
                            reduction='sum')) / (2 * b)
    return {'ic_global': nt_xent(g[:, 0], g[:, 1], temperature),
            'ic_local': torch.where(off_diagonal, pairs, 0.0).sum() / k,
            'll': nt_xent(l[:, 0], l[:, 1], temperature).sum(),
            'gl': gl}


@MODELS.register_module()
class TCLR(VideoMethod):
    """TCLR (Dave et al., CVIU 2022): backbone + head + the four losses of :func:`tclr_loss`.

    Input of ``loss``: (B, 2 (1 + K), 3, T, H, W) normalised clips in the order of
    ``TCLRSampler`` with ``views_per_clip=2``: global a, global b, local 1 a, local 1 b, ...
    Head: Linear -> BN -> ReLU -> Linear -> BN at the backbone's width, then L2-normalised; it is
    called separately on the global clips (2B rows), on the local clips (2KB rows) and on each
    of the global clip's K time steps (2B rows each), so BatchNorm statistics are per call.

    Temporal alignment: the global clip's feature map must keep exactly K time steps, one per
    local clip; the backbone's temporal strides must downsample the clip length T by T / K. The
    paper (16-frame clips, R3D-18) drops the last temporal stride and dilates layer4. mmaction2's
    ResNet3d already halves time once in its ``pool2`` (after layer1), so the SynthMotion suites'
    backbone (``temporal_strides=(1, 1, 1, 1)``, shared by every method) takes an 8-frame clip
    to 4 steps at pool2 and keeps 4 through layers 2-4 ((1, 2, 2, 2) would leave 1), without
    dilation.
    A mismatch raises a ValueError at the first step.
    Embeddings are gathered across data-parallel ranks with gradient and every rank evaluates
    the loss of the whole global batch (as the released code's single-process DataParallel does).
    """

    TERMS = ('ic_global', 'ic_local', 'll', 'gl')

    def __init__(self, backbone: dict, proj_dim: int = 128, hidden_dim: int | None = None,
                 num_local: int = 4, temperature: float = 0.1,
                 loss_weights: dict[str, float] | None = None, **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        hidden = hidden_dim or self.feat_dim
        self.head = nn.Sequential(nn.Linear(self.feat_dim, hidden), nn.BatchNorm1d(hidden),
                                  nn.ReLU(inplace=True), nn.Linear(hidden, proj_dim),
                                  nn.BatchNorm1d(proj_dim))
        self.num_local = num_local
        self.num_views = 2 * (1 + num_local)
        self.temperature = temperature
        unknown = set(loss_weights or {}) - set(self.TERMS)
        if unknown:
            raise UserError(f'TCLR loss_weights has unknown terms {sorted(unknown)}; '
                            f'known: {list(self.TERMS)}')
        self.loss_weights = {t: 1.0 for t in self.TERMS} | dict(loss_weights or {})

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C) pooled features -> (N, proj_dim) float32 L2-normalised embeddings."""
        return F.normalize(self.head(x).float(), dim=1)

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        b, v = inputs.shape[:2]
        k = self.num_local
        if v != self.num_views:
            raise UserError(f'TCLR needs {self.num_views} clips per video (global and {k} local '
                            f'clips, two views each), got {v}: use TCLRSampler with '
                            'views_per_clip=2')
        x = inputs.flatten(0, 1).contiguous(memory_format=self.memory_format)
        fmap = self.backbone(x).mean(dim=(3, 4))  # (B V, C, t)
        if fmap.shape[2] != k:
            raise UserError(
                f'TCLR needs the feature map of a {x.shape[2]}-frame clip to keep {k} time steps '
                f'(one per local clip), got {fmap.shape[2]}: set the backbone\'s temporal_strides '
                f'so that time is downsampled by {x.shape[2] // k} in all (ResNet3d\'s pool2 halves '
                'it once), e.g. (1, 1, 1, 1) for 8-frame clips and 4 local clips')
        fmap = fmap.view(b, v, *fmap.shape[1:])
        glob = fmap[:, :2]  # (B, 2, C, K)
        local = fmap[:, 2:].mean(-1).view(b, k, 2, -1).transpose(1, 2)  # (B, 2, K, C)
        g = self.embed(glob.mean(-1).flatten(0, 1)).view(b, 2, -1)
        l = self.embed(local.flatten(0, 2)).view(b, 2, k, -1)
        s = torch.stack([self.embed(glob[..., t].flatten(0, 1)).view(b, 2, -1)
                         for t in range(k)], dim=2)
        g, l, s = (gather_with_grad(z)[0] for z in (g, l, s))  # (W B, ...): the global batch
        with float32(g.device):
            terms = tclr_loss(g, l, s, self.temperature)
        out = {f'loss_{t}': self.loss_weights[t] * terms[t] for t in self.TERMS}
        with torch.no_grad():
            out['sim_pos'] = (g[:, 0] * g[:, 1]).sum(1).mean()
        return out
