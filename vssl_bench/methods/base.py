"""What every method shares: the data preprocessor and the backbone + pooled-feature contract."""
from __future__ import annotations

from typing import Any

import torch
from mmengine.model import BaseDataPreprocessor, BaseModel

from vssl_bench.core.registry import MODELS, build
from vssl_bench.data.device_augment import apply_params_batch


@MODELS.register_module()
class VideoDataPreprocessor(BaseDataPreprocessor):
    """Moves uint8 clips to the model's device and normalises them.

    inputs: uint8 (B, V, 3, T, H, W) (V clips or views per video) or (B, 3, T, H, W);
    returns float32 of the same shape, ``(x / 255 - mean) / std``. Augmentation happened in the data
    set, except where the batch carries ``aug_params`` (a DeviceClipAugment transform): then flip,
    colour jitter, grayscale and blur run here, batched on the model's device. Normalisation
    happens here (mean/std in [0, 1] units, Kinetics statistics by default).
    """

    def __init__(self, mean: tuple[float, float, float] = (0.45, 0.45, 0.45),
                 std: tuple[float, float, float] = (0.225, 0.225, 0.225)) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std).view(3, 1, 1, 1), persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs'].float().div_(255)
        if data.get('aug_params') is not None:  # opt-in device-side augmentation, per clip
            inputs = apply_params_batch(inputs.flatten(0, -5), data['aug_params'].flatten(0, -2)
                                        ).view(inputs.shape)
        inputs = (inputs - self.mean) / self.std
        return {'inputs': inputs, 'data_samples': data.get('data_samples')}


@MODELS.register_module()
class VideoMethod(BaseModel):
    """Base of every method: a video backbone and ``extract_feat(inputs) -> (B, D)``.

    The backbone is any mmaction2 backbone mapping (B, 3, T, H, W) to (B, D, t, h, w); the feature
    is its global average pool. Subclasses implement ``loss`` (mode='loss'); evaluation protocols
    only ever call ``extract_feat``.
    """

    #: False for methods that are evaluated without any pretraining (e.g. random initialisation).
    trainable: bool = True
    #: Clips (or views) per video that ``loss`` takes: inputs are (B, num_views, 3, T, H, W).
    num_views: int = 1

    def __init__(self, backbone: dict, data_preprocessor: dict | None = None,
                 channels_last: bool = True, init_cfg: dict | None = None) -> None:
        # Built here, from our registry, so that the model also builds outside a Runner's scope.
        preprocessor = build(MODELS, data_preprocessor or dict(type='VideoDataPreprocessor'))
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        self.backbone = build(MODELS, backbone)
        self.feat_dim: int = int(self.backbone.feat_dim)
        # channels-last 3D convolutions run about 1.5x faster on oneDNN (CPU) and cuDNN alike.
        self.memory_format = torch.channels_last_3d if channels_last else torch.contiguous_format
        self.backbone.to(memory_format=self.memory_format)

    def init_weights(self) -> None:
        super().init_weights()
        # mmaction2 backbones initialise in their own init_weights, which BaseModule only calls
        # when they have no init_cfg; call it explicitly so every method starts the same way.
        if hasattr(self.backbone, 'init_weights'):
            self.backbone.init_weights()

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) normalised clips -> (B, D) globally average-pooled backbone features."""
        inputs = inputs.contiguous(memory_format=self.memory_format)
        return self.backbone(inputs).mean(dim=(2, 3, 4))

    def forward(self, inputs: torch.Tensor, data_samples: Any = None,
                mode: str = 'tensor') -> torch.Tensor | dict[str, torch.Tensor]:
        """mode='tensor': (B, 3, T, H, W) -> (B, D), or (B, V, 3, T, H, W) -> (B, V, D).
        mode='loss': a dict of losses (keys ``loss_*``) and diagnostics."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            if inputs.dim() == 6:
                b, v = inputs.shape[:2]
                return self.extract_feat(inputs.flatten(0, 1)).view(b, v, -1)
            return self.extract_feat(inputs)
        raise ValueError(f"{type(self).__name__} got mode={mode!r}: methods support 'tensor' and "
                         "'loss'; prediction belongs to the evaluation protocols")

    def loss(self, inputs: torch.Tensor, data_samples: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError(f'{type(self).__name__} does not define a training loss')


def float32(device: torch.device) -> torch.autocast:
    """Context that turns autocast off: losses are computed in float32 inside the bfloat16
    training step, whose autocast would otherwise run their matmuls in bfloat16 (float32
    inputs included)."""
    return torch.autocast(device_type=device.type, enabled=False)


def registered_methods() -> list[str]:
    """Names of the registered methods (subclasses of :class:`VideoMethod`)."""
    return [name for name, cls in MODELS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, VideoMethod) and cls is not VideoMethod]
