"""What the momentum-encoder methods (rho-BYOL, rho-MoCo) share: rho clips per video, an online
backbone + projector and their exponential-moving-average (EMA) target copies."""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from vssl_bench.core.errors import UserError
from vssl_bench.methods.base import VideoMethod
from vssl_bench.methods.heads import projection_mlp


def cosine_momentum(base: float, it: int, max_iters: int) -> float:
    """BYOL's schedule: 1 - (1 - base) (cos(pi it / max_iters) + 1) / 2, from base up to 1."""
    return 1 - (1 - base) * (math.cos(math.pi * min(it, max_iters) / max_iters) + 1) / 2


class MomentumMethod(VideoMethod):
    """Base (not registered) of methods whose targets come from an EMA copy of the online
    backbone + projector (Feichtenhofer et al., CVPR 2021: rho clips of each video are positives).

    The projector is Linear -> BN -> ReLU -> Linear (BYOL / MoCo v2), hidden width
    ``hidden_dim`` (default 4x the backbone width, BYOL's 4096 : 2048 : 256 ratio scaled to the
    backbone). The target parameters never require gradient (so DistributedDataParallel ignores
    them) and are updated inside the training step, before the forward pass, from the online
    parameters the previous optimiser step left: ``target = m target + (1 - m) online``.
    ``momentum_schedule='cosine'`` raises m from ``base_momentum`` to 1 over the run, reading the
    iteration and run length from mmengine's message hub (set by the Runner's RuntimeInfoHook);
    where they are unknown (outside a Runner) m stays ``base_momentum``, as with ``'constant'``.
    """

    def __init__(self, backbone: dict, rho: int = 2, proj_dim: int = 128,
                 hidden_dim: int | None = None, base_momentum: float = 0.99,
                 momentum_schedule: str = 'cosine', **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        if rho < 2:
            raise UserError(f'{type(self).__name__} needs rho >= 2 clips per video, got {rho}')
        if momentum_schedule not in ('cosine', 'constant'):
            raise UserError(f"momentum_schedule must be 'cosine' or 'constant', "
                            f'got {momentum_schedule!r}')
        self.num_views = rho
        self.base_momentum = base_momentum
        self.momentum_schedule = momentum_schedule
        hidden = hidden_dim or 4 * self.feat_dim
        self.projector = projection_mlp(self.feat_dim, hidden, proj_dim, num_hidden=1)
        self.target_backbone = copy.deepcopy(self.backbone)
        self.target_projector = copy.deepcopy(self.projector)
        for p in self._target_params():
            p.requires_grad_(False)

    def _online_params(self) -> list[torch.nn.Parameter]:
        return [*self.backbone.parameters(), *self.projector.parameters()]

    def _target_params(self) -> list[torch.nn.Parameter]:
        return [*self.target_backbone.parameters(), *self.target_projector.parameters()]

    def init_weights(self) -> None:
        super().init_weights()
        # The online backbone was re-initialised after the copy was taken: start equal again.
        with torch.no_grad():
            for po, pt in zip(self._online_params(), self._target_params()):
                pt.copy_(po)

    def momentum(self) -> float:
        """m of the current iteration."""
        hub = MessageHub.get_current_instance()
        it, total = hub.get_info('iter'), hub.get_info('max_iters')
        if self.momentum_schedule == 'constant' or it is None or not total:
            return self.base_momentum
        return cosine_momentum(self.base_momentum, int(it), int(total))

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        for po, pt in zip(self._online_params(), self._target_params()):
            pt.mul_(momentum).add_(po.detach(), alpha=1 - momentum)

    def online_and_target(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, rho, 3, T, H, W) -> online projections (B rho, P) (with gradient, dtype of the
        forward pass) and target projections (B, rho, P) float32, L2-normalised, no gradient."""
        b, v = inputs.shape[:2]
        if v != self.num_views:
            raise UserError(f'{type(self).__name__} needs rho={self.num_views} clips per video, '
                            f'got {v}: use RandomClipSampler(num_clips={self.num_views})')
        if self.training:
            self.update_target(self.momentum())
        x = inputs.flatten(0, 1).contiguous(memory_format=self.memory_format)
        online = self.projector(self.backbone(x).mean(dim=(2, 3, 4)))
        with torch.no_grad():
            target = self.target_projector(self.target_backbone(x).mean(dim=(2, 3, 4)))
            target = F.normalize(target.float(), dim=1).view(b, v, -1)
        return online, target
