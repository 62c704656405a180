"""Label subsets of the semisup protocol and the FineTuneClassifier model."""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from vssl_bench.data.dataset import read_annotations
from vssl_bench.engine.finetuning import (FineTuneClassifier, balanced_subset, per_class_count,
                                          subset_file)
from vssl_bench.harness.components import load_plugins

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {0: 50, 1: 7, 2: 1, 3: 25}  # videos per class of the fake train split


@pytest.fixture
def ann(tmp_path: Path) -> Path:
    lines = [f'videos/c{c}_{i:03d}.mp4 {c}' for c, n in COUNTS.items() for i in range(n)]
    path = tmp_path / 'train.txt'
    path.write_text('\n'.join(lines[::-1]) + '\n')  # not sorted by class
    (tmp_path / 'test.txt').write_text('videos/test_000.mp4 0\nvideos/test_001.mp4 3\n')
    return path


def test_per_class_count_rule():
    assert [per_class_count(n, 0.01) for n in (50, 7, 1, 25, 150, 250)] == [1, 1, 1, 1, 2, 3]
    # Halves round up (Python's round would give 2 for 2.5), never 0, never above n.
    assert [per_class_count(n, 0.1) for n in (50, 7, 1, 25, 15)] == [5, 1, 1, 3, 2]
    assert per_class_count(7, 1.0) == 7


@pytest.mark.parametrize('fraction', [0.01, 0.1, 0.5])
def test_exact_counts_and_at_least_one_per_class(ann, fraction):
    subset = balanced_subset(read_annotations(str(ann)), fraction, seed=0)
    counts = Counter(label for _, label in subset)
    assert counts == {c: per_class_count(n, fraction) for c, n in COUNTS.items()}
    assert len({path for path, _ in subset}) == len(subset)


def test_determinism_nesting_and_order(ann):
    entries = read_annotations(str(ann))
    a, b = balanced_subset(entries, 0.1, seed=3), balanced_subset(entries, 0.1, seed=3)
    assert a == b
    assert a != balanced_subset(entries, 0.1, seed=4)
    assert set(balanced_subset(entries, 0.01, seed=3)) <= set(a)  # 1 % lies inside 10 %
    positions = [entries.index(e) for e in a]
    assert positions == sorted(positions)  # the annotation file's order is kept


def test_subset_file_written_hashed_reused_and_disjoint(ann):
    out = ann.parent / 'subsets'
    path = subset_file(ann, 0.1, 0, out, exclude=ann.parent / 'test.txt')
    assert path.parent == out and path.name.startswith('train-0.1-seed0-')
    digest = path.stem.rsplit('-', 1)[1]
    assert hashlib.sha256(path.read_bytes()).hexdigest()[:12] == digest
    assert read_annotations(str(path)) == balanced_subset(read_annotations(str(ann)), 0.1, 0)
    test_paths = {p for p, _ in read_annotations(str(ann.parent / 'test.txt'))}
    assert not test_paths & {p for p, _ in read_annotations(str(path))}
    mtime = path.stat().st_mtime_ns
    assert subset_file(ann, 0.1, 0, out) == path and path.stat().st_mtime_ns == mtime
    assert subset_file(ann, 0.1, 1, out) != path


def test_tampered_subset_file_is_an_error(ann):
    out = ann.parent / 'subsets'
    path = subset_file(ann, 0.1, 0, out)
    path.write_text(path.read_text() + 'videos/c0_000.mp4 0\n')
    with pytest.raises(ValueError, match='was modified.*delete it'):
        subset_file(ann, 0.1, 0, out)


def test_subset_sharing_a_test_video_is_an_error(ann):
    (ann.parent / 'test.txt').write_text('videos/c2_000.mp4 2\n')  # class 2's only video
    with pytest.raises(ValueError, match='disjoint'):
        subset_file(ann, 0.1, 0, ann.parent / 'subsets', exclude=ann.parent / 'test.txt')


def test_finetune_classifier_keeps_loaded_weights_and_trains_backbone_only(tmp_path):
    load_plugins()
    from vssl_bench.engine import pretrain as pt
    cfg = Config.fromfile(str(ROOT / 'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py'))
    method = pt.init_untrained(cfg, seed=0)
    pt.save_weights(method, tmp_path / 'w.pth')
    model = FineTuneClassifier(method=cfg.model.to_dict(), num_classes=5,
                               weights=str(tmp_path / 'w.pth'))
    model.init_weights()  # what the Runner calls: must not re-initialise the backbone
    for name, tensor in method.state_dict().items():
        assert torch.equal(model.encoder.state_dict()[name], tensor), name
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(('encoder.backbone.', 'head.')) for n in trainable)
    assert any(n.startswith('head.') for n in trainable)
    inputs = torch.randint(0, 255, (2, 1, 3, 8, 32, 32), dtype=torch.uint8)
    data = model.data_preprocessor({'inputs': inputs, 'data_samples': torch.tensor([0, 4])})
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert model.head.weight.grad is not None
    assert model(data['inputs'], mode='tensor').shape == (2, 1, 5)
