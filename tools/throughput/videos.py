"""Synthetic test videos at real data sets' sizes, codecs and keyframe spacing.

The content is a panning textured background (smooth noise at 1/8 resolution, upsampled) with a
moving bright bar, so that the encoders produce ordinary P/B-frames at a bitrate near real
footage of the same size, not the near-empty stream of a static picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class VideoSpec:
    """One test video: ``name``, frame ``width`` x ``height``, ``fps``, ``seconds``, ``codec``
    ('libx264' writes .mp4, 'mpeg4' writes .avi) and ``gop`` (frames between keyframes)."""

    name: str
    width: int
    height: int
    fps: int
    seconds: float
    codec: str = 'libx264'
    gop: int = 60

    @property
    def num_frames(self) -> int:
        return int(round(self.fps * self.seconds))

    @property
    def suffix(self) -> str:
        return '.mp4' if self.codec == 'libx264' else '.avi'


# UCF101 is 320x240 at 25 fps, ~7 s, MPEG-4 part 2 (xvid) in .avi; Kinetics clips are 10 s,
# commonly stored at 340x256 (short side 256) and 30 fps in H.264 .mp4. Keyframes every 2 s:
# YouTube-derived H.264 has 2-5 s GOPs, xvid's default maximum is 250 frames (10 s at 25 fps),
# so a sample's frames often share one GOP in real data and seeking saves less than here.
SPECS = {
    'ucf_like_h264': VideoSpec('ucf_like_h264', 320, 240, 25, 7.0, 'libx264', 50),
    'ucf_like_mpeg4': VideoSpec('ucf_like_mpeg4', 320, 240, 25, 7.0, 'mpeg4', 50),
    'kinetics_like_h264': VideoSpec('kinetics_like_h264', 340, 256, 30, 10.0, 'libx264', 60),
}


def content_frames(num_frames: int, height: int, width: int, seed: int = 0):
    """Yield ``num_frames`` uint8 (H, W, 3) RGB frames of the panning, moving-bar content."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(height // 8 + 8, width // 8 + 8, 3)).astype(np.uint8)
    texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)
    bar = max(4, height // 12)
    for i in range(num_frames):
        dy, dx = (i // 2) % 64, i % 64
        frame = texture[dy:dy + height, dx:dx + width].copy()
        top = (i * 3) % (height - bar)
        frame[top:top + bar] = (37 * i) % 256
        yield frame


def write_video(path: str | Path, spec: VideoSpec, seed: int = 0) -> Path:
    """Encode ``spec`` (yuv420p) at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), 'w') as container:
        stream = container.add_stream(spec.codec, rate=spec.fps)
        stream.width, stream.height = spec.width, spec.height
        stream.pix_fmt = 'yuv420p'
        stream.codec_context.gop_size = spec.gop
        if spec.codec == 'libx264':
            # No extra keyframes at scene cuts: the spacing is exactly gop.
            stream.options = {'preset': 'veryfast', 'crf': '23',
                              'x264-params': f'keyint={spec.gop}:scenecut=0'}
        else:
            stream.bit_rate = 1_000_000
        for array in content_frames(spec.num_frames, spec.height, spec.width, seed):
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
