"""``vssl-bench export CHECKPOINT --to mmaction2``: a vssl-bench checkpoint as a plain mmaction2
``Recognizer3D`` loads it (see :func:`vssl_bench.engine.interop.mmaction2_export`)."""
from __future__ import annotations

from pathlib import Path

import torch
from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_text, atomic_write_with, read_json
from vssl_bench.core.registry import MODELS, build
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.interop import load_tensors, mmaction2_export, mmaction2_snippet
from vssl_bench.harness.components import load_plugins

TARGETS = ('mmaction2',)


def model_config(checkpoint: Path, config: str | Path | None) -> dict:
    """The model config of a checkpoint: ``config``'s ``model`` (a method config), else the
    ``model_config.json`` saved beside the checkpoint by ``vssl-bench run`` / ``train``."""
    if config is not None:
        return Config.fromfile(str(config), import_custom_modules=False).model.to_dict()
    saved = checkpoint.parent / pt.MODEL_CONFIG
    if not saved.is_file():
        raise FileNotFoundError(f'no {saved} beside {checkpoint}: pass the method config it was '
                                'trained with (--config configs/methods/<method>.py)')
    return read_json(saved)


def export_checkpoint(checkpoint: str | Path, to: str = 'mmaction2', out: str | Path | None = None,
                      config: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``<out>/<name>_mmaction2.pth`` (for ``load_from``), ``<name>_mmaction2_backbone.pth``
    (for the backbone's ``pretrained``) and the config snippet ``<name>_mmaction2.py`` (``out``
    defaults to the checkpoint's folder); returns the first and the snippet."""
    checkpoint = Path(checkpoint)
    if to not in TARGETS:
        raise UserError(f'--to {to!r}: exports go to {", ".join(TARGETS)}')
    if not checkpoint.is_file():
        raise FileNotFoundError(f'checkpoint {checkpoint} not found: pass a final_weights.pth '
                                '(work_dirs/.../final_weights.pth)')
    model_cfg = model_config(checkpoint, config)
    state = load_tensors(checkpoint)
    exported, bare, meta = mmaction2_export(state, model_cfg, str(checkpoint))
    out = Path(out) if out is not None else checkpoint.parent
    # work_dirs/pretrain/CVRL-1a2b3c4d/seed0/final_weights.pth -> CVRL-1a2b3c4d-seed0
    name = (f'{checkpoint.parent.parent.name}-{checkpoint.parent.name}'
            if checkpoint.stem == 'final_weights' else checkpoint.stem)
    weights, snippet = out / f'{name}_mmaction2.pth', out / f'{name}_mmaction2.py'
    backbone = out / f'{name}_mmaction2_backbone.pth'
    out.mkdir(parents=True, exist_ok=True)
    for path, obj in ((weights, exported), (backbone, bare)):
        atomic_write_with(path, lambda tmp, obj=obj: torch.save(obj, tmp))
    load_plugins()
    feat_dim = int(build(MODELS, model_cfg['backbone']).feat_dim)
    atomic_write_text(snippet, mmaction2_snippet(meta, str(weights), str(backbone), feat_dim))
    return weights, snippet
