"""Features of one checkpoint on one data split: the only thing feature protocols see."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from mmengine.logging import print_log

from vssl_bench.core.io import atomic_write_with, tmp_suffix


@dataclass
class Features:
    """Per-clip backbone features of a data split.

    clips: (N, K, D) float32, pooled backbone features of K uniformly spaced clips per video
        (not normalised: protocols normalise as their paper does).
    labels: (N,) int64 class indices.
    num_failed: videos of the split that could not be decoded and are left out.
    """

    clips: np.ndarray
    labels: np.ndarray
    num_failed: int = 0

    def __post_init__(self) -> None:
        if self.clips.ndim != 3 or self.labels.shape != (self.clips.shape[0],):
            raise ValueError(f'Features need clips (N, K, D) and labels (N,), got '
                             f'{self.clips.shape} and {self.labels.shape}')

    def video_level(self) -> np.ndarray:
        """(N, D) clip-averaged features, L2-normalised."""
        mean = self.clips.mean(axis=1)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


def extract_features(model: torch.nn.Module, dataset: torch.utils.data.Dataset,
                     batch_size: int = 32, num_workers: int = 0,
                     progress: bool = True) -> Features:
    """Run ``model.extract_feat`` over every clip of every video of ``dataset`` once.

    dataset items: {'inputs': uint8 (K, 3, T, H, W), 'data_samples': label}; the model's data
    preprocessor normalises and moves them to the model's device. Runs in eval mode (BN frozen),
    float32, without gradients; the model's mode is restored afterwards.
    """
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                         num_workers=num_workers)
    was_training = model.training
    model.eval()
    clips, labels = [], []
    done, total = 0, len(dataset)
    next_report = 0.1
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            feats = model(data['inputs'], mode='tensor')  # (B, K, D)
            clips.append(feats.float().cpu().numpy())
            labels.append(batch['data_samples'].view(-1).numpy())
            done += len(feats)
            if progress and done / total >= next_report:
                print_log(f'features: {done}/{total} videos', logger='current')
                next_report += 0.1
    model.train(was_training)
    return Features(np.concatenate(clips).astype(np.float32),
                    np.concatenate(labels).astype(np.int64),
                    num_failed=int(getattr(dataset, 'num_failed', 0)))


def save_features(features: Features, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_with(path, lambda tmp: np.savez(
        tmp, clips=features.clips, labels=features.labels,
        num_failed=np.int64(features.num_failed)),
        tmp=path.with_name(path.name + tmp_suffix() + '.npz'))  # np.savez appends .npz otherwise


def load_features(path: Path) -> Features:
    with np.load(path) as data:
        return Features(data['clips'], data['labels'], int(data['num_failed']))


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 (hex) of a model's state dict: every entry's name, dtype, shape and raw bytes, in
    sorted name order. Deterministic across processes; any change of any tensor changes it."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
