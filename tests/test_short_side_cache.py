"""The frame cache for real data sets: one short side, one file per video, size estimated first."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_videos
from vssl_bench.data import short_side_cache as ssc
from vssl_bench.data import video
from vssl_bench.data.dataset import VideoClipDataset
from vssl_bench.data.video import FrameStore, VideoDecodeError, decode_video


@pytest.fixture
def mixed_sizes(tmp_path: Path) -> list[str]:
    """Two videos of different sizes and lengths plus a corrupt file."""
    make_videos(tmp_path, n=1, frames=10, size=(32, 40), subdir='a', ann_name='a.txt')
    make_videos(tmp_path, n=1, frames=7, size=(48, 64), subdir='b', ann_name='b.txt',
                corrupt=True)
    return [str(tmp_path / 'a/vid000.mp4'), str(tmp_path / 'b/vid000.mp4'),
            str(tmp_path / 'b/corrupt.mp4')]


def test_videos_of_any_size_cached_at_one_short_side(mixed_sizes, tmp_path, monkeypatch) -> None:
    cache = str(tmp_path / 'cache')
    logs: list[str] = []
    monkeypatch.setattr(video, 'print_log', lambda msg, **kwargs: logs.append(msg))
    with pytest.warns(RuntimeWarning, match='corrupt.mp4'):
        store = FrameStore(mixed_sizes, cache, num_workers=1, short_side=16)
    assert store.cache_path.endswith('-short16') and set(store.failed) == {2}
    expected = [ssc.resize_frames(decode_video(p), 16) for p in mixed_sizes[:2]]
    assert expected[0].shape == (10, 16, 20, 3) and expected[1].shape == (7, 16, 21, 3)
    for i in range(2):
        np.testing.assert_array_equal(store.get(i), expected[i])
    with pytest.raises(VideoDecodeError):
        store.get(2)
    # The estimate, printed before building, is exact where the container counts its frames.
    assert ssc.estimate_bytes(mixed_sizes, 16) == sum(e.nbytes for e in expected)
    assert 'about 0.00 GB on disk (estimated from container metadata)' in logs[0]
    # Reused without decoding; a native-size cache of the same videos has another key.
    monkeypatch.setattr(ssc, 'decode_video', lambda p: pytest.fail('decoded again'))
    with pytest.warns(RuntimeWarning):
        again = FrameStore(mixed_sizes, cache, num_workers=2, short_side=16)
    np.testing.assert_array_equal(again.get(1), expected[1])
    # The native-size cache keeps one size: the odd video is resized to the first one's, and
    # the warning names it (the short-side cache keeps each video's aspect ratio instead).
    with pytest.warns(RuntimeWarning, match=r'resized.*vid000\.mp4 \(48x64\)'):
        native = FrameStore(mixed_sizes[:2], cache, num_workers=1, progress=False)
    assert native.get(0).shape[1:] == native.get(1).shape[1:] == (32, 40, 3)


def test_dataset_reads_the_short_side_cache(mixed_sizes, tmp_path) -> None:
    ann = tmp_path / 'mixed.txt'
    ann.write_text('a/vid000.mp4 0\nb/vid000.mp4 1\n')
    ds = VideoClipDataset(str(ann), str(tmp_path), cache_dir=str(tmp_path / 'c'),
                          cache_short_side=16,
                          sampler=dict(type='RandomClipSampler', clip_len=4, stride=2),
                          transform=dict(type='CenterClip', out_size=16))
    assert [ds[i]['inputs'].shape for i in range(2)] == [(1, 3, 4, 16, 16)] * 2
