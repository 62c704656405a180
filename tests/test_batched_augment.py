"""The batched photometric half of ClipAugment: the same clips as clip by clip, bit for bit."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vssl_bench.data.batched_augment import JITTER_ORDER, one_thread, photometric_batch
from vssl_bench.data.dataset import VideoClipDataset
from vssl_bench.data.transforms import (ClipAugment, ClipAugParams, apply_photometric,
                                        sample_clip_params)


def _params_covering_every_case(rng: np.random.Generator, size: int) -> list[ClipAugParams]:
    """All 24 jitter orders (with and without grayscale and blur), plus random draws."""
    params = []
    for k, order in enumerate(itertools.permutations(JITTER_ORDER)):
        factors = {'brightness': rng.uniform(0.2, 1.8), 'contrast': rng.uniform(0.2, 1.8),
                   'saturation': rng.uniform(0.2, 1.8), 'hue': rng.uniform(-0.2, 0.2)}
        params.append(ClipAugParams(0, 0, size, size, jitter=tuple(
            (name, float(factors[name])) for name in order), grayscale=k % 3 == 0,
            blur_sigma=float(rng.uniform(0.1, 2.0)) if k % 2 else None))
    params.append(ClipAugParams(0, 0, size, size))  # nothing photometric at all
    params.append(ClipAugParams(0, 0, size, size, grayscale=True, blur_sigma=0.1))
    return params + [sample_clip_params(rng, size, size) for _ in range(40)]


@pytest.mark.parametrize('frames,size', [(8, 32), (3, 20), (2, 112)])
def test_batch_equals_clip_by_clip_bit_for_bit(frames: int, size: int) -> None:
    rng = np.random.default_rng(size)
    params = _params_covering_every_case(rng, size)
    levels = rng.integers(0, 256, (len(params), frames, 3, size, size), dtype=np.uint8)
    clips = torch.from_numpy(levels).float().div_(255)
    clips[0] = 0.5  # gray frames: hue and saturation's zero-range case
    expected = torch.stack([apply_photometric(c.clone(), p) for c, p in zip(clips, params)])
    threads = torch.get_num_threads()
    got = photometric_batch(clips.clone(), params)
    assert torch.get_num_threads() == threads
    assert got.dtype == torch.float32 and got.shape == expected.shape
    assert torch.equal(got, expected)
    assert not torch.equal(got, clips)  # it did change the clips


def test_batch_checks_one_parameter_set_per_clip() -> None:
    with pytest.raises(ValueError, match='2 parameter sets for 3 clips'):
        photometric_batch(torch.zeros(3, 2, 3, 8, 8), [ClipAugParams(0, 0, 8, 8)] * 2)


def test_one_thread_restores_the_thread_count() -> None:
    threads = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == threads


def test_draw_then_finish_equals_call() -> None:
    aug = ClipAugment(out_size=24)
    frames = [np.random.default_rng(k).integers(0, 256, (6, 40, 48, 3), dtype=np.uint8)
              for k in range(30)]
    expected = [aug(f, np.random.default_rng(k)) for k, f in enumerate(frames)]
    drawn = [aug.draw(f, np.random.default_rng(k)) for k, f in enumerate(frames)]
    got = aug.finish(drawn)
    assert all(g.shape == (3, 6, 24, 24) and g.dtype == torch.uint8 for g in got)
    assert all(torch.equal(g, e) for g, e in zip(got, expected))
    assert ClipAugment(consistent=False).batched is False and aug.batched is True


@pytest.mark.parametrize('transform', [dict(type='ClipAugment', out_size=16),
                                       dict(type='ClipAugment', out_size=16, consistent=False),
                                       dict(type='DeviceClipAugment', out_size=16)])
def test_dataset_batch_equals_item_by_item(video_factory, transform: dict) -> None:
    ann = video_factory(n=5, frames=20, size=(32, 40))
    ds = VideoClipDataset(str(ann), str(ann.parent), transform=transform, views_per_clip=2,
                          sampler=dict(type='CVRLIntervalSampler', clip_len=4, stride=2))
    torch.manual_seed(0)
    items = [ds[i] for i in (3, 0, 4, 1)]
    torch.manual_seed(0)
    batch = ds.__getitems__([3, 0, 4, 1])
    assert len(batch) == 4
    for got, want in zip(batch, items):
        assert got.keys() == want.keys()
        assert all(torch.equal(got[key], want[key]) for key in want)
    assert int(batch[0]['data_samples']) == int(items[0]['data_samples'])


def test_a_loader_augments_its_batch_at_once(video_factory, monkeypatch) -> None:
    ann = video_factory(n=6, frames=20, size=(32, 40))
    ds = VideoClipDataset(str(ann), str(ann.parent), transform=dict(type='ClipAugment',
                                                                     out_size=16),
                          sampler=dict(type='CVRLIntervalSampler', clip_len=4, stride=2))
    batches = []
    finish = ClipAugment.finish
    monkeypatch.setattr(ClipAugment, 'finish',
                        lambda self, drawn: batches.append(len(drawn)) or finish(self, drawn))
    torch.manual_seed(1)
    loaded = next(iter(DataLoader(ds, batch_size=3, shuffle=False)))
    assert batches == [6]  # 3 videos x 2 clips, one call
    monkeypatch.setattr(ClipAugment, 'batched', False)  # clip by clip, as before
    torch.manual_seed(1)
    clip_by_clip = next(iter(DataLoader(ds, batch_size=3, shuffle=False)))
    assert batches == [6]
    assert torch.equal(loaded['inputs'], clip_by_clip['inputs'])
