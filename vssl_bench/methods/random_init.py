"""Random initialisation: the lower bound, evaluated with no pretraining at all."""
from __future__ import annotations

from vssl_bench.core.registry import MODELS
from vssl_bench.methods.base import VideoMethod


@MODELS.register_module()
class RandomInit(VideoMethod):
    """The backbone as its ``init_weights`` leaves it (seeded): nothing is trained."""

    trainable = False
