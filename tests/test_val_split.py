"""The validation split carved from train, and schedule selection on it (never on test)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

import vssl_bench.protocols.semisup as semisup
from tools.select_schedule import main as select_main
from tools.select_schedule import read_candidates
from vssl_bench.data.dataset import read_annotations
from vssl_bench.data.synthmotion import generate
from vssl_bench.data.val_split import split_validation, val_count, validation_files
from vssl_bench.engine import pretrain as pt
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.run_records import run_work_dir
from vssl_bench.harness.suite_config import Suite, load_method_config
from vssl_bench.protocols import FineTune, ModelContext, SemiSupervised

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {0: 50, 1: 7, 2: 2, 3: 25}  # train videos per class


def entries() -> list[tuple[str, int]]:
    return [(f'videos/c{c}_{i:03d}.mp4', c) for c, n in COUNTS.items() for i in range(n)][::-1]


def write_splits(root: Path) -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / 'train.txt').write_text(''.join(f'{p} {c}\n' for p, c in entries()))
    (root / 'test.txt').write_text(''.join(f'videos/test_{c}_{i}.mp4 {c}\n'
                                           for c in COUNTS for i in range(5)))
    return root / 'train.txt', root / 'test.txt'


# ------------------------------------------------------------------------------------- split
def test_val_count_rule():
    assert [val_count(n, 0.2) for n in (2, 3, 7, 50)] == [1, 1, 1, 10]
    assert val_count(2, 0.9) == 1  # one video always stays for training
    with pytest.raises(ValueError):
        val_count(1, 0.2)


def test_split_is_stratified_disjoint_complete_and_seeded():
    rest, val = split_validation(entries(), 0.2, seed=0)
    assert Counter(c for _, c in val) == {c: val_count(n, 0.2) for c, n in COUNTS.items()}
    assert all(Counter(c for _, c in val)[c] >= 1 for c in COUNTS)
    assert not set(rest) & set(val) and sorted(rest + val) == sorted(entries())
    assert [e for e in entries() if e in set(val)] == val  # file order kept
    assert split_validation(entries(), 0.2, seed=0) == (rest, val)
    assert split_validation(entries(), 0.2, seed=1)[1] != val


def test_validation_files_written_hashed_reused_and_checked(tmp_path):
    train, test = write_splits(tmp_path)
    rest_file, val_file = validation_files(train, 0.2, 0, tmp_path / 'subsets', exclude=test)
    assert rest_file.name.startswith('train-minusval0.2-seed0-')
    assert val_file.name.startswith('train-val0.2-seed0-')
    rest, val = split_validation(read_annotations(str(train)), 0.2, 0)
    assert read_annotations(str(rest_file)) == rest and read_annotations(str(val_file)) == val
    mtime = val_file.stat().st_mtime_ns
    assert validation_files(train, 0.2, 0, tmp_path / 'subsets') == (rest_file, val_file)
    assert val_file.stat().st_mtime_ns == mtime
    val_file.write_text(val_file.read_text() + 'videos/x.mp4 0\n')
    with pytest.raises(ValueError, match='was modified'):
        validation_files(train, 0.2, 0, tmp_path / 'subsets')
    test.write_text(test.read_text() + 'videos/c0_000.mp4 0\n')
    with pytest.raises(ValueError, match='disjoint'):
        validation_files(train, 0.2, 0, tmp_path / 'other', exclude=test)


# --------------------------------------------------------------------------------- selection
#: Accuracy the fake fine-tuning reaches on validation / test, by learning rate.
VAL_ACC = {1e-3: 0.3, 2e-3: 0.8, 3e-3: 0.8}
TEST_ACC = {1e-3: 0.9, 2e-3: 0.5, 3e-3: 0.9}


def fake_context(tmp_path: Path) -> ModelContext:
    train, test = write_splits(tmp_path / 'data')
    return ModelContext(method_cfg=Config(dict(method_name='M', model=dict(type='X'))),
                        weights=tmp_path / 'w.pth', data_root=str(tmp_path),
                        cache_dir=None, ann_files=dict(train=str(train), test=str(test)),
                        view={}, work_dir=tmp_path / 'work', subset_dir=tmp_path / 'subsets')


def fake_predictions(split: Path, accuracy: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot 'probabilities' of the split's videos, the first ``accuracy`` share right."""
    labels = np.array([c for _, c in read_annotations(str(split))])
    right = np.arange(len(labels)) < round(accuracy * len(labels))
    return np.eye(classes)[np.where(right, labels, (labels + 1) % 4)], labels


@pytest.fixture
def stubbed(monkeypatch):
    """Fine-tuning returns its schedule as 'model'; scoring looks the accuracy up by split."""
    calls = []

    def finetune(context, ann_file, num_classes, *, seed, work_dir, **schedule):
        return dict(schedule, train_file=str(ann_file), classes=num_classes), 0.0

    def predict(model, context, dtype=None):
        split = Path(context.ann_files['test'])
        calls.append((split, model))
        table = TEST_ACC if split.name == 'test.txt' else VAL_ACC
        return fake_predictions(split, table[model['lr']], model['classes'])
    monkeypatch.setattr(semisup, 'finetune', finetune)
    monkeypatch.setattr(semisup, 'predict_test_split', predict)
    return calls


@pytest.mark.parametrize('cls, kwargs', [(SemiSupervised, dict(fractions=(0.1, 0.5))),
                                         (FineTune, {})])
def test_selection_picks_best_validation_and_scores_test_once(tmp_path, stubbed, cls, kwargs):
    protocol = cls(lr=5e-4, dtype=None, **kwargs,
                   candidates=[dict(lr=1e-3), dict(lr=2e-3, steps=7), dict(lr=3e-3)])
    result = protocol.evaluate_model(fake_context(tmp_path), seed=0)
    metrics, info = result.metrics, result.info
    selection = info['selection']
    assert selection['chosen'] == 1  # 2e-3 ties with 3e-3 on validation: the first wins
    assert [c['val_top1'] for c in selection['candidates']] == pytest.approx([30, 80, 80], abs=3)
    assert info['schedule']['lr'] == 2e-3 and info['schedule']['steps'] == 7
    # The test split is scored once, for the chosen schedule; candidates only saw validation.
    test_calls = [model for split, model in stubbed if split.name == 'test.txt']
    assert len(test_calls) == len(protocol.fractions) and test_calls[0]['lr'] == 2e-3
    val_file = Path(selection['val_file'])
    assert all(split == val_file for split, _ in stubbed[:-len(protocol.fractions)])
    val = {p for p, _ in read_annotations(str(val_file))}
    for candidate in selection['candidates']:
        for run in candidate['runs']:
            assert not val & {p for p, _ in read_annotations(run['train_file'])}
    assert all(v == pytest.approx(50, abs=3) for k, v in metrics.items() if 'top1' in k)


def test_without_candidates_nothing_is_selected(tmp_path, stubbed):
    protocol = SemiSupervised(fractions=(0.1,), lr=2e-3, dtype=None)
    assert set(protocol.evaluate_model(fake_context(tmp_path), seed=0).info) == {'runs',
                                                                                 'schedule'}
    assert [split.name for split, _ in stubbed] == ['test.txt']
    assert not list((tmp_path / 'subsets').glob('*val*'))


def test_candidates_config_errors():
    with pytest.raises(ValueError, match='at least two'):
        SemiSupervised(candidates=[dict(lr=1e-3)])
    with pytest.raises(ValueError, match='unknown keys'):
        FineTune(candidates=[dict(lr=1e-3), dict(learning_rate=1e-3)])
    with pytest.raises(ValueError, match='val_fraction'):
        FineTune(candidates=[dict(lr=1e-3), dict(lr=2e-3)], val_fraction=1.0)


# ---------------------------------------------------------------------------------- real run
def test_tiny_semisup_with_two_candidates_records_validation_scores(tmp_path):
    load_plugins()
    data = generate(tmp_path / 'tiny', scale='tiny', seed=0, progress=False)
    cfg = Config.fromfile(str(ROOT / 'configs/methods/random_init_r3d18w16_synthmotion.py'))
    pt.save_weights(pt.init_untrained(cfg, seed=0), tmp_path / 'w.pth')
    context = ModelContext(
        method_cfg=cfg, weights=tmp_path / 'w.pth', data_root=str(data),
        cache_dir=str(data / '.frame_cache'),
        ann_files=dict(train=str(data / 'train.txt'), test=str(data / 'test.txt')),
        view=dict(clip_len=8, stride=2, num_clips=1, out_size=32), work_dir=tmp_path / 'work',
        subset_dir=tmp_path / 'subsets', batch_size=8)
    protocol = SemiSupervised(fractions=(0.01,), steps=1, batch_size=4, num_workers=0,
                              log_interval=1, dtype=None,
                              candidates=[dict(lr=1e-3), dict(lr=1e-4, head_lr_mult=1.0)])
    result = protocol.evaluate_model(context, seed=0)
    selection = result.info['selection']
    assert [c['overrides'] for c in selection['candidates']] == protocol.candidates
    for candidate in selection['candidates']:
        assert 0 <= candidate['val_top1'] <= 100
        assert candidate['runs'][0]['num_test'] == selection['num_val'] == 12  # 1 per class
        assert candidate['runs'][0]['num_train'] == 12  # 1 % of train-minus-val: 1 per class
    assert selection['chosen'] in (0, 1)
    assert result.info['runs'][0]['num_test'] == 24 and set(result.metrics) == {
        'top1_1pct', 'top5_1pct'}


# ------------------------------------------------------------------------------ suite tool
def test_read_candidates_inline_json_and_py(tmp_path):
    assert read_candidates('[{"lr": 0.001}, {"steps": 5}]') == [dict(lr=1e-3), dict(steps=5)]
    (tmp_path / 'c.py').write_text('candidates = [dict(lr=1e-3), dict(lr=2e-3)]\n')
    assert read_candidates(str(tmp_path / 'c.py')) == [dict(lr=1e-3), dict(lr=2e-3)]
    with pytest.raises(ValueError):
        read_candidates('{"lr": 0.001}')


def test_select_schedule_tool_uses_trained_weights_and_validation_only(tmp_path, stubbed):
    load_plugins()
    data = generate(tmp_path / 'tiny', scale='tiny', seed=0, progress=False)
    suite = Suite.load(ROOT / 'configs/suites/tiny.py', data_root=str(data))
    entry = next(e for e in suite.methods if 'random_init' in e['config'])
    cfg = load_method_config(entry, suite)
    pt.save_weights(pt.init_untrained(cfg, seed=0),
                    run_work_dir(suite, cfg, 0, tmp_path / 'work') / 'final_weights.pth')
    out = tmp_path / 'results'
    code = select_main([str(suite.path), '--data-root', str(data), '--methods', 'RandomInit',
                        '--candidates', '[{"lr": 0.001}, {"lr": 0.002}]',
                        '--work-dir', str(tmp_path / 'work'), '--out', str(out)])
    assert code == 0
    assert stubbed and all(split.name.startswith('train-val0.2-seed0-') for split, _ in stubbed)
    summary = json.loads((out / 'schedule_selection.json').read_text())
    assert set(summary['protocols']) == {'semisup', 'finetune'}
    for result in summary['protocols'].values():
        assert result['chosen'] == 1 and result['methods']['RandomInit']['chosen'] == 1
        assert result['methods']['RandomInit']['val_top1'] == pytest.approx([33.3, 83.3],
                                                                            abs=0.1)
    assert '**{"lr": 0.002}**' in (out / 'schedule_selection.md').read_text()
    # Supervised was not trained: reported, not silently skipped, and the file is kept.
    before = (out / 'schedule_selection.json').read_text()
    assert select_main([str(suite.path), '--data-root', str(data), '--methods', 'Supervised',
                        '--candidates', '[{"lr": 0.001}, {"lr": 0.002}]',
                        '--work-dir', str(tmp_path / 'work'), '--out', str(out)]) == 1
    assert (out / 'schedule_selection.json').read_text() == before


# ------------------------------------------------------------------------- checkpoint search
#: (split, lr, step) -> accuracy of the fake fine-tuning's checkpoints. On validation the
#: 1e-3 run peaks at step 4 and stays there (a tie: the earlier step wins); on test its later
#: checkpoint and the other schedule would look better: choosing on test would pick them.
SEARCH_ACC = {('val', 1e-3): {2: 0.3, 4: 0.6, 8: 0.6}, ('val', 3e-4): {2: 0.2, 4: 0.4, 8: 0.5},
              ('test', 1e-3): {2: 0.3, 4: 0.7, 8: 0.9}, ('test', 3e-4): {2: 0.2, 4: 0.5, 8: 0.95}}


@pytest.fixture
def stubbed_search(monkeypatch):
    """Fine-tuning hands a fake model per scored step to ``score``; scoring looks the accuracy
    up by split, learning rate and step."""
    calls = []

    def finetune(context, ann_file, num_classes, *, seed, work_dir, score_steps=(), score=None,
                 **schedule):
        for step in score_steps:
            score(dict(lr=schedule['lr'], step=step, classes=num_classes,
                       train_file=str(ann_file)), step)
        return dict(lr=schedule['lr'], step=schedule['steps'], classes=num_classes), 0.0

    def predict(model, context, dtype=None):
        split = Path(context.ann_files['test'])
        name = 'test' if split.name == 'test.txt' else 'val'
        calls.append((name, model['lr'], model['step']))
        return fake_predictions(split, SEARCH_ACC[name, model['lr']][model['step']],
                                model['classes'])
    monkeypatch.setattr(semisup, 'finetune', finetune)
    monkeypatch.setattr(semisup, 'predict_test_split', predict)
    return calls


@pytest.mark.parametrize('cls, kwargs', [(SemiSupervised, dict(fractions=(0.1, 0.5))),
                                         (FineTune, {})])
def test_checkpoint_search_picks_best_validation_step_per_fraction(tmp_path, stubbed_search,
                                                                   cls, kwargs):
    protocol = cls(steps=8, lr=1e-3, dtype=None, eval_steps=(2, 4, 100), **kwargs,
                   candidates=[dict(lr=1e-3), dict(lr=3e-4)])
    result = protocol.evaluate_model(fake_context(tmp_path), seed=0)
    metrics, search = result.metrics, result.info['search']
    tags = [semisup.fraction_tag(f) for f in protocol.fractions]
    assert sorted(search['chosen']) == sorted(tags)
    for tag in tags:
        assert search['chosen'][tag] == dict(schedule=0, step=4, val_top1=pytest.approx(60, abs=3),
                                             lr=1e-3)
        # Every schedule's validation curve, at the scored steps (100 > 8 dropped, 8 added).
        assert [list(s['val_top1'][tag]) for s in search['schedules']] == [['2', '4', '8']] * 2
        assert search['schedules'][1]['val_top1'][tag]['8'] == pytest.approx(50, abs=3)
    # The reported test numbers are those of the chosen checkpoint (70 %), not the best on test.
    assert all(v == pytest.approx(70, abs=3) for k, v in metrics.items() if 'top1' in k)
    assert {run['step'] for run in result.info['runs']} == {4}
    assert 'checkpoints' not in result.info['runs'][0]
    assert len(result.per_video['top1' if cls is FineTune else 'top1_10pct']) == 20
    # Runs trained on train-minus-val only; every checkpoint scored on both splits.
    val = {p for p, _ in read_annotations(search['val_file'])}
    for run in result.info['runs']:
        assert not val & {p for p, _ in read_annotations(run['train_file'])}
    runs = len(protocol.fractions) * 2
    assert len([c for c in stubbed_search if c[0] == 'val']) == 3 * runs
    assert len([c for c in stubbed_search if c[0] == 'test']) == 3 * runs


def test_checkpoint_search_without_candidates_chooses_the_step(tmp_path, stubbed_search):
    protocol = FineTune(steps=8, lr=3e-4, dtype=None, eval_steps=(2, 4))
    result = protocol.evaluate_model(fake_context(tmp_path), seed=0)
    assert result.info['search']['chosen']['100pct']['step'] == 8
    assert result.metrics['top1'] == pytest.approx(95, abs=3)
    with pytest.raises(ValueError, match='eval_steps'):
        FineTune(eval_steps=(0, 4))
