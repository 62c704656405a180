"""VideoClipDataset: output format, determinism, one decode per sample, bad videos."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

from tests.conftest import frame_level, make_videos
from vssl_bench.core.registry import DATASETS, build
from vssl_bench.data import decoders, video
from vssl_bench.data.dataset import VideoClipDataset

TRAIN = dict(sampler=dict(type='CVRLIntervalSampler', clip_len=4, stride=2),
             transform=dict(type='ClipAugment', out_size=16))


def test_output_shapes_and_labels(video_factory) -> None:
    ann = video_factory(n=3, frames=20, size=(32, 40))
    ds = build(DATASETS, dict(type='VideoClipDataset', ann_file=str(ann),
                             data_root=str(ann.parent), views_per_clip=2, **TRAIN))
    assert len(ds) == 3 and ds.num_failed == 0
    sample = ds[1]
    assert sample['inputs'].shape == (4, 3, 4, 16, 16)  # 2 clips x 2 views
    assert sample['inputs'].dtype == torch.uint8
    assert sample['data_samples'].dtype == torch.int64 and sample['data_samples'].ndim == 0
    assert int(sample['data_samples']) == 1
    np.testing.assert_array_equal(ds.video_labels, [0, 1, 0])
    assert ds.video_paths[2].endswith('videos/vid002.mp4')
    batch = default_collate([ds[0], ds[2]])
    assert batch['inputs'].shape == (2, 4, 3, 4, 16, 16)
    assert batch['data_samples'].tolist() == [0, 0]


def test_eval_view_cuts_the_sampled_frames(video_factory) -> None:
    ann = video_factory(n=1, frames=30, size=(32, 40))
    ds = VideoClipDataset(str(ann), str(ann.parent),
                          sampler=dict(type='UniformClipSampler', clip_len=5, stride=3,
                                       num_clips=2),
                          transform=dict(type='CenterClip', out_size=32))
    inputs = ds[0]['inputs']
    assert inputs.shape == (2, 3, 5, 32, 32)
    # The left 4 columns of the centre crop belong to the gray half that encodes the frame index.
    levels = inputs[:, :, :, :, :4].float().mean(dim=(1, 3, 4))
    expected = [[frame_level(s + 3 * k) for k in range(5)] for s in (0, 17)]
    np.testing.assert_allclose(levels.numpy(), expected, atol=3)


def test_deterministic_under_torch_seed(video_factory) -> None:
    ann = video_factory(n=2, frames=24, size=(32, 40))
    ds = VideoClipDataset(str(ann), str(ann.parent), views_per_clip=2, **TRAIN)
    torch.manual_seed(0)
    a = [ds[i]['inputs'] for i in range(2)]
    torch.manual_seed(0)
    b = [ds[i]['inputs'] for i in range(2)]
    torch.manual_seed(1)
    c = ds[0]['inputs']
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c)
    # Views of one clip are augmented independently.
    assert not torch.equal(a[0][0], a[0][1])


def test_one_decode_per_sample(video_factory, monkeypatch) -> None:
    ann = video_factory(n=2, frames=24, size=(32, 40))
    calls = []

    def counting(module, name):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a: calls.append(name) or real(*a))

    counting(video, 'decode_video')
    ds = VideoClipDataset(str(ann), str(ann.parent), views_per_clip=3, decoder='whole', **TRAIN)
    assert ds[0]['inputs'].shape[0] == 6
    assert calls == ['decode_video']
    # Decoding only the needed frames: one index read and one seeking pass for both clips.
    calls.clear()
    counting(decoders, 'probe_video')
    counting(decoders, 'decode_frames')
    ds = VideoClipDataset(str(ann), str(ann.parent), views_per_clip=3, decoder='seek', **TRAIN)
    assert ds[0]['inputs'].shape[0] == 6
    assert calls == ['probe_video', 'decode_frames']


def test_corrupt_video_dropped_with_cache(synthetic_videos: Path) -> None:
    with pytest.warns(RuntimeWarning, match='corrupt.mp4'):
        ds = VideoClipDataset(str(synthetic_videos), str(synthetic_videos.parent),
                              cache_dir=str(synthetic_videos.parent / 'cache'), **TRAIN)
    assert len(ds) == 3 and ds.num_failed == 1
    assert not any(p.endswith('corrupt.mp4') for p in ds.video_paths)
    np.testing.assert_array_equal(ds.video_labels, [0, 1, 0])
    assert ds[2]['inputs'].shape == (2, 3, 4, 16, 16)
    # Through a DataLoader worker process, which receives a pickled dataset.
    loader = DataLoader(ds, batch_size=3, num_workers=1, collate_fn=default_collate)
    batch = next(iter(loader))
    assert batch['inputs'].shape == (3, 2, 3, 4, 16, 16)


def test_corrupt_video_replaced_on_demand(synthetic_videos: Path) -> None:
    ds = VideoClipDataset(str(synthetic_videos), str(synthetic_videos.parent), **TRAIN)
    assert len(ds) == 4  # not known to be bad before decoding
    with pytest.warns(RuntimeWarning, match='corrupt.mp4'):
        sample = ds[3]  # the corrupt one: replaced by the next kept video, index 0
    assert ds.num_failed == 1
    assert sample['inputs'].shape == (2, 3, 4, 16, 16) and int(sample['data_samples']) == 0
    ds[3]  # known bad now: skipped without a second failure
    assert ds.num_failed == 1


def test_annotation_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match='vssl-bench data synthmotion'):
        VideoClipDataset(str(tmp_path / 'nope.txt'))
    ann = make_videos(tmp_path, n=2, frames=8, size=(16, 16))
    ann.write_text(ann.read_text() + 'videos/vid000.mp4 cat\n')
    with pytest.raises(ValueError, match=r'ann.txt:3: .*cat'):
        VideoClipDataset(str(ann), str(tmp_path))
    unlabelled = tmp_path / 'unlabelled.txt'
    unlabelled.write_text('videos/vid000.mp4\nvideos/vid001.mp4\n')
    ds = VideoClipDataset(str(unlabelled), str(tmp_path), with_label=False, **TRAIN)
    assert ds.video_labels.tolist() == [-1, -1] and int(ds[0]['data_samples']) == -1
