"""Tests of the generated data sets besides SynthMotion (SynthEvents, SynthInteract): the shared
machinery of vssl_bench.data.procedural at tiny scale, and that each data set's label needs time
(a single frame is near chance, statistics of how frames change are far above it)."""
from __future__ import annotations

import hashlib
import json
import pathlib
from collections import Counter

import av
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vssl_bench.cli import build_parser
from vssl_bench.data import procedural, synthevents, synthinteract
from vssl_bench.data.procedural import SPLITS

NEW = ('synthevents', 'synthinteract')


def _hashes(root: pathlib.Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def _decode(path: pathlib.Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


@pytest.fixture(scope='module', params=NEW)
def tiny(request, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[procedural.ProceduralDataset, pathlib.Path]:
    spec = procedural.get(request.param)
    root = procedural.generate(spec, tmp_path_factory.mktemp(spec.name) / 'd', 'tiny', seed=0,
                               workers=1, progress=False)
    return spec, root


def test_registered_for_suites_and_cli() -> None:
    assert set(NEW) < set(procedural.GENERATED)
    for name in NEW:
        spec = procedural.get(name)
        assert spec.name == name and len(spec.classes) == 12 and len(set(spec.classes)) == 12
        assert spec.scales['default'] == procedural.get('synthmotion').scales['default']
        args = build_parser().parse_args(['data', name, '--out', 'x', '--scale', 'tiny'])
        assert (args.dataset, args.out, args.scale, args.seed) == (name, 'x', 'tiny', 0)
    with pytest.raises(ValueError, match="unknown generated data set 'synthfoo'"):
        procedural.get('synthfoo')


def test_deterministic_across_dirs_and_workers(tiny, tmp_path: pathlib.Path) -> None:
    spec, root = tiny
    scale = spec.scales['tiny']
    first = _hashes(root)
    assert len(first) == 4 + 1 + sum(scale.per_class(s) for s in SPLITS) * 12
    assert _hashes(procedural.generate(spec, tmp_path / 'b', 'tiny', seed=0, workers=2,
                                       progress=False)) == first
    other = _hashes(procedural.generate(spec, tmp_path / 'c', 'tiny', seed=1, workers=1,
                                        progress=False))
    assert all(first[k] != other[k] for k in first if k.endswith('.mp4'))


def test_layout_balance_and_geometry(tiny) -> None:
    spec, root = tiny
    scale = spec.scales['tiny']
    assert (root / 'classes.txt').read_text().splitlines() == list(spec.classes)
    seen: set[str] = set()
    for split in SPLITS:
        rows = [line.split() for line in (root / f'{split}.txt').read_text().splitlines()]
        labels = [int(label) for _, label in rows]
        assert Counter(labels) == {c: scale.per_class(split) for c in range(12)}
        assert labels != sorted(labels)
        for path, _ in rows:
            assert path.startswith(f'videos/{split}/')
            assert _decode(root / path).shape == (scale.frames, scale.size, scale.size, 3)
        seen |= {p for p, _ in rows}
    assert len(list(root.rglob('*.mp4'))) == len(seen) == sum(
        scale.per_class(s) for s in SPLITS) * 12
    meta = json.loads((root / 'meta.json').read_text())
    assert (meta['dataset'], meta['scale'], meta['seed'], meta['version']) == (
        spec.name, 'tiny', 0, spec.version)


def test_folder_of_another_data_set_is_refused(tiny) -> None:
    spec, root = tiny
    other = procedural.get('synthinteract' if spec.name == 'synthevents' else 'synthevents')
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob('*')}
    with pytest.raises(FileExistsError, match=f"another data set .'{spec.name}'.*another --out"):
        procedural.generate(other, root, 'tiny', seed=0, progress=False)
    assert {p: p.stat().st_mtime_ns for p in root.rglob('*')} == mtimes


def test_suite_accepts_the_type_and_checks_the_scale(tmp_path: pathlib.Path) -> None:
    from vssl_bench.core.errors import ConfigError
    from vssl_bench.harness.validate import load_suite
    suite = load_suite('configs/suites/synthevents_check.py')
    assert suite.data['type'] == 'synthevents'
    bad = tmp_path / 'bad.py'
    bad.write_text("_base_ = ['{}']\nsuite_name = 'bad'\n"
                   "data = dict(type='synthinteract', scale='huge')\n".format(
        pathlib.Path('configs/_base_/suite_synthmotion.py').resolve()))
    with pytest.raises(ConfigError, match="unknown SynthInteract scale 'huge'.*default"):
        load_suite(bad)


# --- the label needs time -----------------------------------------------------------------

def _render_set(module, per_class: int = 20) -> tuple[list[np.ndarray], np.ndarray]:
    """Default-geometry videos (48 frames of 32x32, unencoded) and their labels."""
    labels = np.tile(np.arange(12), per_class)
    return [module.render_video(np.random.default_rng([0, 99, i]), int(label), 48, 32)
            for i, label in enumerate(labels)], labels


def _frame_feature(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(192,) one random frame, average-pooled to 8x8 RGB."""
    frame = video[rng.integers(len(video))].astype(np.float32)
    return frame.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3)).ravel()


def _flash_feature(video: np.ndarray) -> np.ndarray:
    """(29,) statistics of the light added over time (anywhere in the frame): its
    autocorrelation at lags 1-16, spectrum and the skew of its changes (fade in vs fade out)."""
    gray = video.astype(np.float32).mean(axis=-1)
    light = np.clip(gray - np.percentile(gray, 20, axis=0), 0, None).mean(axis=(1, 2))
    light = (light - light.mean()) / (light.std() + 1e-6)
    lags = [np.mean(light[k:] * light[:-k]) for k in range(1, 17)]
    change = np.diff(light)
    skew = np.mean(change ** 3) / (np.mean(change ** 2) ** 1.5 + 1e-6)
    return np.array([*lags, *np.abs(np.fft.rfft(light))[1:13], skew])


def _pair_feature(video: np.ndarray, colours: list[np.ndarray]) -> np.ndarray:
    """(15,) statistics of the tracks of the two objects (centroids of the pixels near each
    object's mean colour): distance, speeds, turning of the pair, who leads, sides."""
    pixels = video.astype(np.float32)
    ys, xs = np.mgrid[:video.shape[1], :video.shape[2]]
    a, b = [np.stack([(m * xs).sum((1, 2)), (m * ys).sum((1, 2))], 1) / (m.sum((1, 2)) + 1e-3)[:, None]
            for m in ((np.linalg.norm(pixels - c, axis=-1) < 60).astype(np.float32)
                      for c in colours)]
    gap = b - a
    dist = np.linalg.norm(gap, axis=1)
    va, vb = np.diff(a, axis=0), np.diff(b, axis=0)
    sa, sb = np.linalg.norm(va, axis=1), np.linalg.norm(vb, axis=1)
    turn = gap[:-1, 0] * gap[1:, 1] - gap[:-1, 1] * gap[1:, 0]
    mid = (va + vb) / 2
    ahead = (mid * gap[:-1]).sum(1) / (np.linalg.norm(mid, axis=1) * dist[:-1] + 1e-3)
    along = np.abs((va * gap[:-1]).sum(1)) - np.abs((vb * gap[:-1]).sum(1))
    return np.nan_to_num(np.array([
        dist.std(), dist.min(), sa.mean(), sb.mean(), np.abs(sa - sb).mean(), turn.sum(),
        np.abs(turn).mean(), ahead.mean(), np.abs(ahead).mean(), (va * vb).sum(1).mean(),
        np.mean((gap[0] * gap).sum(1) < 0), np.corrcoef(sa, sb)[0, 1], along.mean(),
        np.minimum(sa, sb).mean(), np.maximum(sa, sb).mean()]))


def _scores(single: np.ndarray, temporal: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
    return (cross_val_score(clf, single, labels, cv=5).mean(),
            cross_val_score(clf, temporal, labels, cv=5).mean())


def test_synthevents_label_needs_time_not_a_frame() -> None:
    videos, labels = _render_set(synthevents)
    rng = np.random.default_rng(0)
    single, temporal = _scores(np.stack([_frame_feature(v, rng) for v in videos]),
                               np.stack([_flash_feature(v) for v in videos]), labels)
    assert single < 1 / 12 + 0.08, (single, temporal)  # measured 5.8 %
    assert temporal > single + 0.4 and temporal > 0.6, (single, temporal)  # measured 90 %


def test_synthinteract_label_needs_time_not_a_frame() -> None:
    videos, labels = _render_set(synthinteract)
    _, sprites = synthinteract.scene_looks(32)
    colours = [s[..., :3].sum((0, 1)) / s[..., 3].sum() for s in sprites]
    rng = np.random.default_rng(0)
    single, temporal = _scores(np.stack([_frame_feature(v, rng) for v in videos]),
                               np.stack([_pair_feature(v, colours) for v in videos]), labels)
    assert single < 1 / 12 + 0.08, (single, temporal)  # measured 10.0 %
    assert temporal > single + 0.4 and temporal > 0.6, (single, temporal)  # measured 97.5 %


def test_synthevents_brightness_marginal_is_the_same_for_every_class() -> None:
    """By construction (a frame cannot tell): dark about half the time in every class, and the
    lit levels spread alike; ramp_down is ramp_up played backwards."""
    levels = {label: np.concatenate([synthevents.brightness(np.random.default_rng([label, i]),
                                                            label, 48) for i in range(60)])
              for label in range(12)}
    dark = np.array([np.mean(v < 0.02) for v in levels.values()])
    lit_mean = np.array([v[v >= 0.02].mean() for v in levels.values()])
    assert np.all(np.abs(dark - 0.5) < 0.12), dark
    assert lit_mean.max() - lit_mean.min() < 0.12, lit_mean
    up, down = synthevents.CLASSES.index('ramp_up_slow'), synthevents.CLASSES.index('ramp_down_slow')
    rise = np.diff(synthevents.brightness(np.random.default_rng(1), up, 48))
    fall = np.diff(synthevents.brightness(np.random.default_rng(1), down, 48))
    assert rise.max() < -rise.min() and -fall.min() < fall.max()  # slow rise, snap off; reverse


def test_synthinteract_pairs_differ_only_in_relative_motion() -> None:
    """pass_through swaps the objects' sides, bounce never does; a_leads / b_leads are mirror
    roles; the distance between the objects stays within the same range in every class."""
    def path(name: str, i: int) -> tuple[np.ndarray, np.ndarray]:
        return synthinteract.paths(np.random.default_rng(i), synthinteract.CLASSES.index(name),
                                   48, 32)

    for i in range(5):
        a, b = path('bounce', i)
        assert np.all(((b - a) * (b - a)[0]).sum(1) > 0)  # same side throughout
        a, b = path('pass_through', i)
        assert np.any(((b - a) * (b - a)[0]).sum(1) < 0)  # they swap sides
    far = {name: max(np.linalg.norm(np.subtract(*path(name, i)), axis=1).max() for i in range(20))
           for name in synthinteract.CLASSES if name != 'independent'}
    assert max(far.values()) < 1.3 * min(far.values()), far


def test_frame_probe_scores_what_a_frame_shows(tmp_path: pathlib.Path) -> None:
    """The single-frame probe of docs/datasets.md reads the class where a frame shows it (here
    its colour); on the generated data sets it stays near chance (docs/datasets.md)."""
    from vssl_bench.data.frame_probe import frame_probe
    from vssl_bench.data.procedural import encode_mp4
    rng = np.random.default_rng(0)
    colours = rng.uniform(0, 255, size=(12, 3))
    for split, per_class in (('train', 3), ('test', 2)):
        lines = []
        for i in range(12 * per_class):
            label = i % 12
            frames = np.clip(colours[label] + rng.normal(0, 5, size=(8, 32, 32, 3)), 0, 255)
            path = tmp_path / 'colour' / f'{split}_{i}.mp4'
            path.parent.mkdir(exist_ok=True)
            encode_mp4(frames.astype(np.uint8), path, fps=16)
            lines.append(f'{path.name} {label}\n')
        (tmp_path / 'colour' / f'{split}.txt').write_text(''.join(lines))
    assert frame_probe(tmp_path / 'colour') == 1.0
