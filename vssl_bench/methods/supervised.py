"""Supervised pretraining on the pretrain pool's labels: the upper-bound baseline."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod


@MODELS.register_module()
class Supervised(VideoMethod):
    """Cross-entropy classification of one clip per video (B, 1, 3, T, H, W) into ``num_classes``.

    The linear classifier is discarded at evaluation: protocols see the backbone's pooled feature.
    """

    def __init__(self, backbone: dict, num_classes: int, dropout: float = 0.0, **kwargs) -> None:
        super().__init__(backbone=backbone, **kwargs)
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(self.feat_dim, num_classes)

    def loss(self, inputs: torch.Tensor, data_samples: torch.Tensor) -> dict[str, torch.Tensor]:
        if data_samples is None or bool((data_samples < 0).any()):
            raise UserError('Supervised pretraining needs labelled videos (labels >= 0); '
                            'point its data set at an annotation file with labels')
        labels = data_samples.view(-1)
        views = inputs.shape[1]
        logits = self.classifier(self.dropout(self.extract_feat(inputs.flatten(0, 1)))).float()
        labels = labels.repeat_interleave(views)
        loss = F.cross_entropy(logits, labels)
        acc = (logits.argmax(1) == labels).float().mean()
        return {'loss_cls': loss, 'acc': acc}
