"""Checkpoints in and out of vssl-bench: the backbone weights of an mmaction2 recognizer, a
torchvision ``r3d_18`` state dict or a vssl-bench method (``vssl-bench eval``), and a vssl-bench
checkpoint as mmaction2 loads it (``vssl-bench export``).

Normalisation is written in vssl-bench's units (``VideoDataPreprocessor``: ``(x / 255 - mean) /
std``, mean and std in [0, 1]); mmaction2's ``ActionDataPreprocessor`` takes them times 255.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import torch

from vssl_bench.core.errors import UserError

FORMATS = ('vssl', 'mmaction2', 'torchvision')

#: torchvision's ``r3d_18`` as mmaction2's ResNet3d: 3x7x7 stem at spatial stride 2, no pooling
#: layer, basic blocks [2, 2, 2, 2], stride 2 in time and space from layer2 on.
TORCHVISION_R3D18 = dict(type='ResNet3d', depth=18, pretrained=None, pretrained2d=False,
                         base_channels=64, conv1_kernel=(3, 7, 7), conv1_stride_t=1,
                         with_pool1=False, with_pool2=False, temporal_strides=(1, 2, 2, 2),
                         inflate=(1, 1, 1, 1), norm_eval=False)
#: The Kinetics-400 statistics torchvision's video models are trained with.
TORCHVISION_NORM = dict(mean=(0.43216, 0.394666, 0.37645), std=(0.22803, 0.22145, 0.216989))
#: mmaction2's usual ``ActionDataPreprocessor`` statistics (ImageNet), in [0, 1] units.
MMACTION2_NORM = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))

_TV_MODULE = {'0': 'conv', '1': 'bn'}


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def load_tensors(path: str | Path) -> Any:
    """``torch.load`` of a weights file with ``weights_only=True`` (tensors and plain
    containers, never arbitrary pickled objects); any other file is a :class:`UserError`."""
    if not Path(path).is_file():
        raise FileNotFoundError(f'checkpoint {path} not found: pass the path of a weights file')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # UnpicklingError (pickled objects), RuntimeError (not a checkpoint)
        raise UserError(f'{path} is not a weights file that loads safely ({type(exc).__name__}): '
                        'pass a checkpoint holding only tensors, e.g. a state dict saved with '
                        'torch.save(model.state_dict(), path); vssl-bench never unpickles '
                        'arbitrary objects') from exc


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UserError(f'{path} holds no state dict (a dict of tensors, or a checkpoint with '
                        "'state_dict'): pass a weights file")
    return obj


def torchvision_to_resnet3d(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys of torchvision's ``r3d_18`` (``stem.0``, ``layer1.0.conv1.1``, ``downsample.0``)
    renamed to mmaction2's ResNet3d (``conv1.conv``, ``layer1.0.conv1.bn``,
    ``downsample.conv``); the classifier ``fc`` is dropped."""
    out = {}
    for key, value in state.items():
        if key.startswith('fc.'):
            continue
        match = re.fullmatch(r'stem\.([01])\.(\w+)', key) or re.fullmatch(
            r'(layer\d\.\d+\.(?:conv1|conv2|downsample))\.([01])\.(\w+)', key)
        if match is None:
            raise UserError(f'{key!r} is not a key of torchvision r3d_18 (other torchvision '
                            'video models are not supported): pass --format vssl or mmaction2')
        if key.startswith('stem.'):
            out[f'conv1.{_TV_MODULE[match.group(1)]}.{match.group(2)}'] = value
        else:
            out[f'{match.group(1)}.{_TV_MODULE[match.group(2)]}.{match.group(3)}'] = value
    return out


def read_backbone(path: str | Path, fmt: str) -> dict[str, torch.Tensor]:
    """The backbone's state dict (keys without ``backbone.``) in a checkpoint of ``fmt``:
    ``vssl`` (a method's ``final_weights.pth``) and ``mmaction2`` (a recognizer's checkpoint,
    weights under ``state_dict``) keep the ``backbone.`` keys; ``torchvision`` renames
    ``r3d_18``'s keys (:func:`torchvision_to_resnet3d`)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise UserError(f'--format {fmt!r} is not one of {", ".join(FORMATS)}')
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {path} not found: pass the path of a weights file')
    state = _state_dict(load_tensors(path), path)
    if fmt == 'torchvision':
        return torchvision_to_resnet3d(state)
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        raise UserError(f'{path} has no backbone.* weights; a torchvision state dict needs '
                        '--format torchvision')
    return backbone


def exported_model(path: str | Path) -> tuple[dict, dict] | None:
    """(backbone config, normalisation) recorded in a checkpoint written by ``vssl-bench export``
    (its ``meta``), or None."""
    obj = load_tensors(path)
    meta = obj.get('meta') if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or not {'backbone', 'mean', 'std'} <= set(meta):
        return None
    return dict(meta['backbone']), dict(mean=tuple(m / 255 for m in meta['mean']),
                                        std=tuple(s / 255 for s in meta['std']))


def default_model(fmt: str, suite_backbone: dict | None) -> tuple[dict, dict]:
    """(backbone config, normalisation) a checkpoint of ``fmt`` is evaluated with by default:
    torchvision's r3d_18 and its statistics; otherwise the suite's backbone with vssl-bench's
    (``vssl``) or mmaction2's usual (``mmaction2``) statistics."""
    if fmt == 'torchvision':
        return dict(TORCHVISION_R3D18), dict(TORCHVISION_NORM)
    if suite_backbone is None:
        raise UserError('the suite names no backbone: give the architecture with '
                        '--method-cfg-options model.backbone.type=... (and its settings)')
    norm = MMACTION2_NORM if fmt == 'mmaction2' else dict(mean=(0.45,) * 3, std=(0.225,) * 3)
    return dict(suite_backbone), dict(norm)


def mmaction2_export(state: dict[str, torch.Tensor], model_cfg: dict,
                     source: str) -> tuple[dict, dict, dict]:
    """(recognizer checkpoint, backbone checkpoint, meta) that a plain mmaction2 ``Recognizer3D``
    loads: the recognizer checkpoint holds the weights under ``state_dict`` with their
    ``backbone.`` keys (the recognizer's own names, for ``load_from``); the backbone checkpoint
    the same weights without the prefix, for ResNet3d's ``pretrained=`` (mmaction2 1.1.0's
    ResNet3d ignores ``init_cfg``, and its recognizers take none). ``meta`` (in both) names the
    backbone config and the ``ActionDataPreprocessor`` mean / std the weights expect."""
    backbone = {k: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        raise UserError(f'{source} has no backbone.* weights: pass a vssl-bench method '
                        'checkpoint (work_dirs/.../final_weights.pth)')
    prep = model_cfg.get('data_preprocessor') or {}
    mean = [round(255 * m, 4) for m in prep.get('mean', (0.45,) * 3)]
    std = [round(255 * s, 4) for s in prep.get('std', (0.225,) * 3)]
    bb = {k: (list(v) if isinstance(v, tuple) else v) for k, v in model_cfg['backbone'].items()}
    meta = dict(source=source, backbone=bb, mean=mean, std=std,
                note='mmaction2 Recognizer3D weights (backbone only) exported by vssl-bench')
    bare = {k[len('backbone.'):]: v for k, v in backbone.items()}
    return dict(state_dict=backbone, meta=meta), dict(state_dict=bare, meta=meta), meta


def mmaction2_snippet(meta: dict, checkpoint: str, backbone_checkpoint: str,
                      feat_dim: int) -> str:
    backbone = dict(meta['backbone'], pretrained=backbone_checkpoint, pretrained2d=False)
    return f'''# mmaction2 config snippet written by `vssl-bench export` for {meta["source"]}.
# The weights load at the Runner level (load_from, the recognizer's backbone.* keys) and, when
# the model is built and initialised alone, through the backbone's `pretrained` (ResNet3d's
# way: it ignores init_cfg). The head is new (set num_classes). Inputs: uint8 clips (N, clips,
# C, T, H, W), normalised by the data preprocessor below (the statistics the weights expect).
model = dict(
    type='Recognizer3D',
    backbone={backbone!r},
    cls_head=dict(type='I3DHead', in_channels={feat_dim}, num_classes=400,
                  spatial_type='avg', dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean={meta["mean"]!r},
                           std={meta["std"]!r}, format_shape='NCTHW'))
load_from = {checkpoint!r}
'''
