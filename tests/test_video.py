"""Video decoding and the decode-once FrameStore cache."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import frame_level, make_videos
from vssl_bench.data import video
from vssl_bench.data.video import FrameStore, VideoDecodeError, decode_video


def video_paths(ann_file: Path) -> list[str]:
    return [str(ann_file.parent / line.split()[0]) for line in ann_file.read_text().splitlines()]


def test_decode_shape_and_frame_order(video_factory) -> None:
    ann = video_factory(n=1, frames=17, size=(32, 40))
    frames = decode_video(video_paths(ann)[0])
    assert frames.shape == (17, 32, 40, 3) and frames.dtype == np.uint8
    levels = frames[:, :, :12].reshape(17, -1).mean(axis=1)
    np.testing.assert_allclose(levels, [frame_level(i) for i in range(17)], atol=3)


def test_decode_errors(synthetic_videos: Path, tmp_path: Path) -> None:
    corrupt = video_paths(synthetic_videos)[-1]
    with pytest.raises(VideoDecodeError, match='corrupt.mp4'):
        decode_video(corrupt)
    with pytest.raises(VideoDecodeError, match='not found') as info:
        decode_video(str(tmp_path / 'missing.mp4'))
    assert isinstance(info.value, RuntimeError) and info.value.path.endswith('missing.mp4')
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    with pytest.raises(VideoDecodeError):
        decode_video(str(empty))
    err = pickle.loads(pickle.dumps(VideoDecodeError('a.mp4', 'boom')))
    assert err.path == 'a.mp4' and err.reason == 'boom'


def test_frame_store_without_cache(synthetic_videos: Path) -> None:
    paths = video_paths(synthetic_videos)
    store = FrameStore(paths, cache_dir=None)
    assert len(store) == 4 and store.failed == {}
    assert store.get(0).shape == (24, 32, 40, 3) and store.num_frames(1) == 24
    with pytest.raises(VideoDecodeError):
        store.get(3)
    assert 3 in store.failed


@pytest.mark.parametrize('num_workers', [1, 2])
def test_frame_store_cache_built_once_and_reused(tmp_path: Path, monkeypatch,
                                                 num_workers: int) -> None:
    ann = make_videos(tmp_path, n=3, frames=[12, 20, 7], size=(16, 24), corrupt=True)
    paths = video_paths(ann)
    cache = tmp_path / 'cache'
    with pytest.warns(RuntimeWarning, match='1 of 4 videos'):
        store = FrameStore(paths, str(cache), num_workers=num_workers, progress=False)
    assert list(store.failed) == [3]
    assert [store.num_frames(i) for i in range(3)] == [12, 20, 7]
    for i in range(3):
        np.testing.assert_array_equal(store.get(i), decode_video(paths[i]))
    with pytest.raises(VideoDecodeError):
        store.get(3)

    def no_decode(path: str) -> np.ndarray:
        raise AssertionError('decoded although the cache is complete')

    monkeypatch.setattr(video, 'decode_video', no_decode)
    with pytest.warns(RuntimeWarning):
        again = FrameStore(paths, str(cache), num_workers=num_workers)
    assert again.cache_path == store.cache_path and list(again.failed) == [3]
    np.testing.assert_array_equal(again.get(1), store.get(1))
    # Pickles without the frames (for DataLoader workers) and reopens the memmap lazily.
    clone = pickle.loads(pickle.dumps(again))
    assert clone._frames is None
    np.testing.assert_array_equal(clone.get(2), store.get(2))


def test_frame_store_cache_key_changes_with_files(tmp_path: Path) -> None:
    ann = make_videos(tmp_path, n=2, frames=8, size=(16, 16))
    paths = video_paths(ann)
    first = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    second = FrameStore(paths[:1], str(tmp_path / 'cache'), num_workers=1, progress=False)
    assert first.cache_path != second.cache_path
    stat = os.stat(paths[0])
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10 ** 9))
    third = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    assert third.cache_path != first.cache_path


def test_incomplete_cache_is_rebuilt(tmp_path: Path) -> None:
    ann = make_videos(tmp_path, n=2, frames=8, size=(16, 16))
    paths = video_paths(ann)
    store = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    os.remove(os.path.join(store.cache_path, 'COMPLETE'))
    with open(os.path.join(store.cache_path, 'frames.npy'), 'wb') as f:
        f.write(b'garbage')  # a half-written cache from a killed run
    rebuilt = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    np.testing.assert_array_equal(rebuilt.get(1), decode_video(paths[1]))


def test_frame_store_cache_resizes_a_video_of_another_size(tmp_path: Path) -> None:
    a = make_videos(tmp_path / 'a', n=1, frames=6, size=(16, 16))
    b = make_videos(tmp_path / 'b', n=1, frames=6, size=(16, 24))
    paths = video_paths(a) + video_paths(b)
    with pytest.warns(RuntimeWarning, match='vid000.mp4 \\(16x24\\)'):  # names the odd one
        store = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    assert store.get(1).shape == (6, 16, 16, 3) and not store.failed
    assert FrameStore(paths, None).get(1).shape == (6, 16, 24, 3)


def test_frame_store_warns_about_a_single_frame_video(tmp_path: Path) -> None:
    paths = video_paths(make_videos(tmp_path, n=2, frames=[6, 1], size=(16, 16)))
    with pytest.warns(RuntimeWarning, match='single frame.*vid001'):
        store = FrameStore(paths, str(tmp_path / 'cache'), num_workers=1, progress=False)
    assert store.get(1).shape[0] == 1
