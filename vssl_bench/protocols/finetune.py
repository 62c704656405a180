"""Full fine-tuning: the semi-supervised protocol (``semisup.py``) with 100 % of the training
labels, i.e. the whole train split; metrics ``top1`` / ``top5``. The schedule arguments are
those of :class:`~vssl_bench.protocols.semisup.SemiSupervised`."""
from __future__ import annotations

from typing import Any

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.protocols.semisup import SemiSupervised


@PROTOCOLS.register_module()
class FineTune(SemiSupervised):
    """Fine-tune the backbone + a new linear head on all training labels, score the test split."""

    name = 'finetune'
    version = '1'
    tag_metrics = False

    def __init__(self, **schedule: Any) -> None:
        for key in ('fractions', 'subset_seeds'):
            if key in schedule:
                raise UserError(f'FineTune uses every training label; {key}= belongs to the '
                                'semisup protocol (type="SemiSupervised")')
        super().__init__(fractions=(1.0,), **schedule)
