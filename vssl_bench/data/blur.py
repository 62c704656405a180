"""The Gaussian blur of the clip augmentation (SimCLR / CVRL), at any resolution."""
from __future__ import annotations

import torch

# Sigma ranges are given for 224-pixel inputs (SimCLR / CVRL); blur scales them with the size.
BLUR_REFERENCE_SIZE = 224


def blur_kernel_and_sigma(sigma_224: float, size: int) -> tuple[int, float]:
    """Kernel size and sigma of the blur for ``size``-pixel images.

    SimCLR / CVRL blur 224-pixel images with sigma in [0.1, 2.0] and a kernel of ~10% of the side.
    At other resolutions the same relative blur is kept: sigma is scaled by ``size / 224`` and the
    kernel is the odd integer nearest below 10% of ``size`` (at least 3).
    """
    kernel = max(3, int(0.1 * size) // 2 * 2 + 1)
    return kernel, sigma_224 * size / BLUR_REFERENCE_SIZE


def gaussian_blur(clip: torch.Tensor, kernel: int, sigma: float) -> torch.Tensor:
    """Gaussian blur with reflect padding of a float clip (T, C, H, W), frames as the batch.

    Same kernel and padding as torchvision's ``gaussian_blur``, except that weights below 1e-20
    are zeroed: for a small sigma the 2-D kernel holds denormal floats (e.g. 1e-44), which made
    torchvision's convolution ~8x slower on CPU; the result differs by < 1e-6.
    """
    x = torch.arange(kernel, dtype=clip.dtype) - (kernel - 1) / 2
    weights = torch.exp(-0.5 * (x / sigma) ** 2)
    weights = weights / weights.sum()
    kernel_2d = torch.outer(weights, weights)
    kernel_2d = torch.where(kernel_2d < 1e-20, torch.zeros_like(kernel_2d), kernel_2d)
    channels = clip.shape[-3]
    pad = kernel // 2
    padded = torch.nn.functional.pad(clip, [pad, pad, pad, pad], mode='reflect')
    return torch.nn.functional.conv2d(padded, kernel_2d.expand(channels, 1, kernel, kernel),
                                      groups=channels)
