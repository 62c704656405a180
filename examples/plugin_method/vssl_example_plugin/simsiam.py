"""SimSiam (Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021) on two
clips of one video: the two clips are the two views, with no negatives and no momentum encoder;
a predictor and a stop-gradient on the target branch prevent collapse.

An out-of-tree example: it only uses the harness' public pieces (``MODELS``, ``VideoMethod``,
the shipped heads ``projection_mlp`` / ``predictor_mlp`` and loss ``negative_cosine``) and is
found through ``custom_imports`` or the ``vssl_bench.methods`` entry point, never by editing
vssl-bench.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod
from vssl_bench.methods.heads import predictor_mlp, projection_mlp
from vssl_bench.methods.losses import negative_cosine


@MODELS.register_module()
class VideoSimSiam(VideoMethod):
    """SimSiam (Chen & He, CVPR 2021) with two clips of a video as the two views.

    Input of ``loss``: (B, 2, 3, T, H, W) normalised clips. Projector: the paper's 3-layer MLP
    with BN (``num_hidden`` = 2 hidden layers at the backbone's width) and BN on its output;
    predictor: a bottleneck MLP ``proj_dim -> pred_hidden_dim -> proj_dim``. The symmetric loss
    is ``(D(p_a, z_b) + D(p_b, z_a)) / 2`` with ``D`` =
    :func:`vssl_bench.methods.losses.negative_cosine`.
    """

    #: Two clips of a video per sample: the harness checks the config's sampler against it.
    num_views = 2

    def __init__(self, backbone: dict, proj_dim: int = 128, pred_hidden_dim: int = 32,
                 num_hidden: int = 2, **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        self.projector = nn.Sequential(
            projection_mlp(self.feat_dim, self.feat_dim, proj_dim, num_hidden),
            nn.BatchNorm1d(proj_dim))
        self.predictor = predictor_mlp(proj_dim, pred_hidden_dim)

    def loss(self, inputs: torch.Tensor, data_samples=None) -> dict[str, torch.Tensor]:
        b, v = inputs.shape[:2]
        if v != 2:
            raise ValueError(f'VideoSimSiam needs 2 clips per video, got {v}: sample them with '
                             "dict(type='RandomClipSampler', num_clips=2) or CVRLIntervalSampler")
        z = self.projector(self.extract_feat(inputs.flatten(0, 1))).float()
        p = self.predictor(z).float()
        z, p = z.view(b, 2, -1), p.view(b, 2, -1)
        loss = 0.5 * (negative_cosine(p[:, 0], z[:, 1]) + negative_cosine(p[:, 1], z[:, 0]))
        with torch.no_grad():
            # The paper's collapse indicator: per-dimension std of l2-normalised outputs,
            # ~1/sqrt(D) when healthy, 0 when every video maps to one point.
            z_std = F.normalize(z.flatten(0, 1), dim=1).std(dim=0).mean()
        return {'loss_simsiam': loss, 'z_std': z_std}
