"""Decoding only the needed frames: identical to the whole-video path; bad files still skipped."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tools.throughput.videos import VideoSpec, write_video
from vssl_bench.data import decoders, seek
from vssl_bench.data.dataset import VideoClipDataset
from vssl_bench.data.decoders import FrameReader
from vssl_bench.data.seek import decode_frames, probe_video
from vssl_bench.data.video import VideoDecodeError, decode_video

# 4 s at 12 fps with a keyframe every 10 frames: 5 GOPs, so reads cross keyframes.
SPECS = [VideoSpec('h264', 48, 32, 12, 4.0, 'libx264', 10),
         VideoSpec('mpeg4', 48, 32, 12, 4.0, 'mpeg4', 10)]


@pytest.fixture(scope='module', params=SPECS, ids=lambda s: s.name)
def video(request, tmp_path_factory) -> str:
    spec = request.param
    return str(write_video(tmp_path_factory.mktemp(spec.name) / f'v{spec.suffix}', spec))


def test_index_from_packets(video: str) -> None:
    index = probe_video(video)
    assert index.num_frames == 48 and index.seekable and index.fps == 12
    np.testing.assert_array_equal(np.flatnonzero(index.keyframe), [0, 10, 20, 30, 40])
    assert index.keyframe_before(0) == 0 and index.keyframe_before(29) == 20


def test_seek_frames_identical_to_whole_video(video: str) -> None:
    whole = decode_video(video)
    index = probe_video(video)
    rng = np.random.default_rng(0)
    cases = [[0], [47], [9, 10, 11], [47, 0, 25, 25], list(range(3, 40, 2)),
             list(range(5, 13)) + list(range(33, 41))]  # two clips in different GOPs
    cases += [rng.integers(0, 48, size=int(rng.integers(1, 20))).tolist() for _ in range(20)]
    for indices in cases:
        np.testing.assert_array_equal(decode_frames(video, indices, index), whole[indices],
                                      err_msg=str(indices))


def test_seek_decodes_fewer_frames(video: str, monkeypatch) -> None:
    # The last GOP only: the decoder must start at keyframe 40, not at frame 0.
    converted = []
    real = seek._decode_wanted

    def spy(path, wanted, index):
        out = real(path, wanted, index)
        converted.append(len(out))
        return out

    monkeypatch.setattr(seek, '_decode_wanted', spy)
    decode_frames(video, [44, 45, 44], probe_video(video))
    assert converted == [2]  # unique frames only


def test_dataset_same_samples_with_every_decoder(tmp_path: Path) -> None:
    spec = SPECS[0]
    ann = tmp_path / 'ann.txt'
    for k in range(2):
        write_video(tmp_path / f'v{k}.mp4', spec, seed=k)
    ann.write_text('v0.mp4 0\nv1.mp4 1\n')
    kwargs = dict(sampler=dict(type='CVRLIntervalSampler', clip_len=6, stride=2),
                  transform=dict(type='ClipAugment', out_size=16), views_per_clip=2)
    samples = {}
    for decoder in ('whole', 'seek'):
        ds = VideoClipDataset(str(ann), str(tmp_path), decoder=decoder, **kwargs)
        torch.manual_seed(0)
        samples[decoder] = [ds[i]['inputs'] for i in (0, 1, 0)]
    for a, b in zip(samples['whole'], samples['seek']):
        assert torch.equal(a, b)


@pytest.mark.parametrize('decoder', ['whole', 'seek'])
def test_bad_and_truncated_videos_counted_and_skipped(tmp_path: Path, decoder: str) -> None:
    spec = SPECS[0]
    good = write_video(tmp_path / 'good.mp4', spec)
    data = good.read_bytes()
    (tmp_path / 'truncated.mp4').write_bytes(data[:len(data) // 2])  # moov atom lost
    (tmp_path / 'garbage.mp4').write_bytes(np.random.default_rng(0).bytes(4096))
    ann = tmp_path / 'ann.txt'
    ann.write_text('truncated.mp4 1\ngood.mp4 0\ngarbage.mp4 1\nmissing.mp4 1\n')
    ds = VideoClipDataset(str(ann), str(tmp_path), decoder=decoder,
                          sampler=dict(type='RandomClipSampler', clip_len=4, stride=2),
                          transform=dict(type='CenterClip', out_size=16))
    with pytest.warns(RuntimeWarning, match='truncated.mp4'):
        first = ds[0]
    assert int(first['data_samples']) == 0 and first['inputs'].shape == (1, 3, 4, 16, 16)
    with pytest.warns(RuntimeWarning):
        last = ds[2]  # garbage, then missing: both skipped, wrapping round to good.mp4
    assert int(last['data_samples']) == 0 and ds.num_failed == 3


def test_truncated_avi_missing_frames_raise(tmp_path: Path) -> None:
    spec = SPECS[1]
    path = write_video(tmp_path / 'v.avi', spec)
    index = probe_video(str(path))  # the full index ...
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])  # ... of a file that lost its last two thirds
    with pytest.raises(VideoDecodeError, match='not decoded'):
        decode_frames(str(path), [47], index)


def test_reader_decoders_and_errors(video: str) -> None:
    whole = decode_video(video)
    indices = np.array([3, 17, 40])
    for name in ('whole', 'seek'):
        reader = FrameReader(name)
        assert reader.num_frames(video) == 48
        np.testing.assert_array_equal(reader.read(video, indices), whole[indices])
    with pytest.raises(ValueError, match="decoder must be one of"):
        FrameReader('ffmpeg')
    if not decoders.torchcodec_available():
        assert FrameReader('auto').decoder == 'seek'
        with pytest.raises(ValueError, match="use decoder='seek'"):
            FrameReader('torchcodec')


@pytest.mark.skipif(not decoders.torchcodec_available(), reason='torchcodec does not load here')
def test_torchcodec_identical_to_whole_video(video: str) -> None:
    indices = np.array([0, 11, 30, 47])
    np.testing.assert_array_equal(FrameReader('torchcodec').read(video, indices),
                                  decode_video(video)[indices])


def test_optional_decoders_missing_give_one_line(monkeypatch):
    """An optional decoder that is not installed is refused by name, with the fix."""
    from vssl_bench.data import decoders
    monkeypatch.setattr(decoders, 'decord_available', lambda: False)
    monkeypatch.setattr(decoders, 'torchcodec_available', lambda: False)
    with pytest.raises(ValueError, match=r"'decord' is not installed \(pip install decord\)"):
        decoders.resolve_decoder('decord')
    with pytest.raises(ValueError, match=r"'torchcodec' does not load"):
        decoders.resolve_decoder('torchcodec')
    assert decoders.resolve_decoder('auto') == 'seek'


def test_whole_reader_decodes_a_video_once_for_count_and_read(video: str, tmp_path,
                                                              monkeypatch) -> None:
    """'whole' keeps the frames that num_frames decoded for the read that follows; a read of
    another video decodes that one."""
    other = str(write_video(tmp_path / 'other.avi', SPECS[1]))
    calls = []
    real = decoders.decode_video
    monkeypatch.setattr(decoders, 'decode_video', lambda path: calls.append(path) or real(path))
    reader = FrameReader('whole')
    indices = np.array([0, 5, 47])
    assert reader.num_frames(video) == 48
    np.testing.assert_array_equal(reader.read(video, indices), real(video)[indices])
    assert calls == [video]
    np.testing.assert_array_equal(reader.read(other, indices), real(other)[indices])
    assert calls == [video, other]
    reader.read(video, indices)  # the kept frames were handed out once: decoded again
    assert calls == [video, other, video]
