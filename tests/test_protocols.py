"""Evaluation protocols on hand-made features with known answers."""
from __future__ import annotations

import numpy as np
import pytest
from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.engine.features import Features
from vssl_bench.protocols import (KNN, FeatureProtocol, FineTune, LinearProbe, ModelContext,
                                  ModelProtocol, Retrieval, SemiSupervised, build_protocol, semisup)
from vssl_bench.protocols.knn import knn_class_scores
from vssl_bench.protocols.retrieval import first_hit_rank
from vssl_bench.protocols.semisup import fraction_tag


def feats(clips: list | np.ndarray, labels: list | np.ndarray) -> Features:
    clips = np.asarray(clips, dtype=np.float32)
    if clips.ndim == 2:  # One clip per video.
        clips = clips[:, None, :]
    return Features(clips, np.asarray(labels, dtype=np.int64))


# ----------------------------------------------------------------------------------- retrieval
GALLERY = feats([[1, 0], [0, 1], [1, 0], [-1, 0]], [0, 1, 1, 2])
QUERIES = feats([[1, 0],        # class 1: g0 and g2 tie at 1, g0 wins on index -> rank 1
                 [0, 1],        # class 2: g1, then g0/g2/g3 tie at 0 -> g3 ranks last (3)
                 [0.6, 0.8],    # class 0: g1 (0.8) first, then g0 -> rank 1
                 [-1, 0],       # class 3: absent from gallery -> never a hit
                 [-0.6, -0.8]],  # class 2: g3 (0.6) first -> rank 0
                [1, 2, 0, 3, 2])


def test_first_hit_rank_hand_made():
    ranks = first_hit_rank(QUERIES.video_level() @ GALLERY.video_level().T, QUERIES.labels,
                           GALLERY.labels)
    assert ranks.tolist() == [1, 3, 1, 4, 0]


def test_retrieval_known_recalls_with_tie_and_clipped_k():
    metrics = Retrieval(ks=(1, 2, 3, 4, 5, 50)).evaluate(GALLERY, QUERIES).metrics
    # k = 5 and 50 exceed the 4 gallery videos: clipped to 4, keys keep their names.
    assert metrics == pytest.approx({'R@1': 20.0, 'R@2': 60.0, 'R@3': 60.0, 'R@4': 80.0,
                                     'R@5': 80.0, 'R@50': 80.0})


def test_retrieval_default_keys():
    metrics = Retrieval().evaluate(GALLERY, QUERIES).metrics
    assert list(metrics) == ['R@1', 'R@5', 'R@10', 'R@20', 'R@50']
    assert metrics['R@1'] == pytest.approx(20.0) and metrics['R@50'] == pytest.approx(80.0)


def test_retrieval_averages_clips_before_normalising():
    # Video 0's clips average to direction (1, 1); per-clip voting would not tell 0 and 1 apart.
    gallery = feats([[[1, 0], [0, 1]], [[1, 0], [1, 0]]], [0, 1])
    query = feats([[[1, 1], [1, 1]]], [0])
    assert Retrieval(ks=(1,)).evaluate(gallery, query).metrics == {'R@1': 100.0}


def test_first_hit_rank_matches_stable_argsort():
    rng = np.random.default_rng(0)
    # Small integer similarities: many exact ties.
    sim = rng.integers(-3, 4, size=(50, 30)).astype(np.float32)
    q_labels, g_labels = rng.integers(0, 6, 50), rng.integers(0, 5, 30)
    order = np.argsort(-sim, axis=1, kind='stable')
    hits = g_labels[order] == q_labels[:, None]
    expected = np.where(hits.any(axis=1), hits.argmax(axis=1), 30)
    np.testing.assert_array_equal(first_hit_rank(sim, q_labels, g_labels), expected)


def test_retrieval_rejects_bad_ks():
    with pytest.raises(ValueError):
        Retrieval(ks=(0, 5))


# -------------------------------------------------------------------------------- linear probe
def clusters(rng: np.random.Generator, means: np.ndarray, n: int, k: int, noise: float,
             labels: np.ndarray | None = None) -> Features:
    """n videos of k clips: the class mean plus Gaussian noise (sd ``noise``) per clip."""
    if labels is None:
        labels = rng.integers(0, len(means), n)
    clips = means[labels][:, None, :] + noise * rng.standard_normal((n, k, means.shape[1]))
    return feats(clips, labels)


FAST = {'Cs': (0.1, 10.0), 'folds': 3}


def test_linear_separable_clusters():
    rng = np.random.default_rng(0)
    means = 5.0 * rng.standard_normal((6, 16))
    train, test = clusters(rng, means, 60, 3, 0.3), clusters(rng, means, 40, 3, 0.3)
    metrics = LinearProbe(**FAST).evaluate(train, test).metrics
    assert metrics == {'top1': 100.0, 'top5': 100.0}


def test_linear_random_labels_near_chance():
    rng = np.random.default_rng(1)
    train = feats(rng.standard_normal((300, 2, 32)), rng.integers(0, 10, 300))
    test = feats(rng.standard_normal((400, 2, 32)), rng.integers(0, 10, 400))
    metrics = LinearProbe(**FAST).evaluate(train, test).metrics
    # Chance: top1 10 %, top5 50 %; binomial sd over 400 videos is 1.5 % and 2.5 %.
    assert 4.0 <= metrics['top1'] <= 17.0
    assert 40.0 <= metrics['top5'] <= 60.0


def test_linear_clip_averaging_beats_single_clips():
    rng = np.random.default_rng(2)
    means = np.zeros((2, 8))
    means[0, 0], means[1, 0] = 0.5, -0.5
    # One clip: class sign of a N(+-0.5, 1) coordinate, ~69 % right; 16 clips: ~98 %.
    train, test = clusters(rng, means, 150, 16, 1.0), clusters(rng, means, 200, 16, 1.0)
    probe = LinearProbe(**FAST)
    averaged = probe.evaluate(train, test).metrics['top1']
    single = probe.evaluate(train, Features(test.clips[:, :1], test.labels)).metrics['top1']
    assert averaged >= 92.0
    assert single <= 80.0


def test_linear_top5_at_least_top1_and_deterministic():
    rng = np.random.default_rng(3)
    means = rng.standard_normal((8, 16))
    train, test = clusters(rng, means, 80, 2, 1.5), clusters(rng, means, 60, 2, 1.5)
    probe = LinearProbe(**FAST)
    first, second = (probe.evaluate(train, test, seed=0).metrics,
                     probe.evaluate(train, test, seed=0).metrics)
    assert first == second
    assert first['top5'] >= first['top1']
    assert 0.0 < first['top1'] < 100.0


def test_linear_selects_c_on_train_only():
    rng = np.random.default_rng(4)
    means = rng.standard_normal((4, 16))
    train, test = clusters(rng, means, 60, 2, 1.0), clusters(rng, means, 40, 2, 1.0)
    probe = LinearProbe(Cs=(0.01, 1.0, 100.0))
    chosen = probe.evaluate(train, test).info['C']
    # Scrambling the test labels changes nothing in the model selection.
    info = probe.evaluate(train, Features(test.clips, rng.permutation(test.labels))).info
    assert info['C'] == chosen
    assert set(info['cv_top1']) == {'0.01', '1', '100'}


def test_linear_cv_folds_grouped_by_video(monkeypatch):
    rng = np.random.default_rng(5)
    means = rng.standard_normal((3, 8))
    train, test = clusters(rng, means, 30, 4, 1.0), clusters(rng, means, 10, 4, 1.0)
    seen = []
    original = LinearProbe._cv_score

    def spy(self, x, y, num_clips, c, splits, seed):
        # Samples are video-major: sample i is a clip of video i // num_clips.
        seen.extend((fit // num_clips, val // num_clips) for fit, val in splits)
        return original(self, x, y, num_clips, c, splits, seed)

    monkeypatch.setattr(LinearProbe, '_cv_score', spy)
    LinearProbe(**FAST).evaluate(train, test)
    assert seen
    for fit_groups, val_groups in seen:
        assert not set(fit_groups) & set(val_groups)
        assert len(val_groups) % 4 == 0  # Whole videos only.


def test_linear_nearly_collinear_features():
    # Pooled ReLU features of a trained network: positive, pointing almost the same way, the
    # classes told apart by differences ~1e-3 of the common part. After L2 normalisation the
    # unstandardised probe (version 1) stayed near chance here (25 % on 4 classes); the
    # standardised features make the classes as separable as they are.
    rng = np.random.default_rng(12)
    common = 10.0 + rng.random(16)
    means = common + 0.01 * rng.standard_normal((4, 16))
    train, test = clusters(rng, means, 80, 2, 0.002), clusters(rng, means, 40, 2, 0.002)
    assert LinearProbe().evaluate(train, test).metrics['top1'] >= 95.0
    version1 = LinearProbe(standardise=False, Cs=(0.1, 1.0, 10.0, 100.0, 1000.0), extend=0)
    assert version1.evaluate(train, test).metrics['top1'] <= 50.0


def test_linear_needs_large_c_for_correlated_noise():
    # The class is x0 - x1 (noise shared by both features): a strongly regularised probe leans
    # on the mean difference (x0 alone, swamped by the shared noise); only a large C learns the
    # difference. The chosen C is larger than the strongest, and the accuracy near perfect.
    rng = np.random.default_rng(13)

    def make(n):
        labels = rng.integers(0, 2, n)
        shared = 3.0 * rng.standard_normal((n, 2, 1))
        clips = np.concatenate([shared + 0.3 * (2 * labels[:, None, None] - 1), shared,
                                rng.standard_normal((n, 2, 2))], axis=2)
        clips += 0.05 * rng.standard_normal(clips.shape)
        return feats(clips + 20.0, labels)

    probe = LinearProbe()
    result = probe.evaluate(make(200), make(100))
    assert result.metrics['top1'] >= 95.0
    assert result.info['C'] > 0.001


@pytest.mark.parametrize('extend, expected, chosen, edge', [
    (5, ['0.001', '0.01', '0.1', '1', '10'], 1.0, False),  # grows until the winner is inside
    (1, ['0.001', '0.01', '0.1'], 0.1, True),  # allowed one decade: still at the edge, said so
    (0, ['0.001', '0.01'], 0.01, True),
])
def test_linear_grid_grows_at_the_upper_edge(monkeypatch, extend, expected, chosen, edge):
    # A CV score that rises with C up to C = 1, then stays flat.
    monkeypatch.setattr(LinearProbe, '_cv_score',
                        lambda self, x, y, k, c, splits, seed: min(np.log10(c), 0.0))
    rng = np.random.default_rng(14)
    means = rng.standard_normal((3, 4))
    probe = LinearProbe(Cs=(0.001, 0.01), extend=extend)
    info = probe.evaluate(clusters(rng, means, 30, 2, 1.0), clusters(rng, means, 9, 2, 1.0)).info
    assert list(info['cv_top1']) == expected
    assert info['C'] == chosen
    assert info['grid_edge'] is edge


def test_linear_grid_grows_at_the_lower_edge_and_stops_on_a_tie(monkeypatch):
    # Smaller C is better down to 0.01, flat below: the tie at 0.001 ends the growth, and the
    # smallest of the tied values wins (the strongest regularisation).
    monkeypatch.setattr(LinearProbe, '_cv_score',
                        lambda self, x, y, k, c, splits, seed: min(-np.log10(c), 2.0))
    rng = np.random.default_rng(15)
    means = rng.standard_normal((3, 4))
    probe = LinearProbe(Cs=(0.1, 1.0), extend=5)
    info = probe.evaluate(clusters(rng, means, 30, 2, 1.0), clusters(rng, means, 9, 2, 1.0)).info
    assert list(info['cv_top1']) == ['0.001', '0.01', '0.1', '1']
    assert info['C'] == 0.001
    assert info['grid_edge'] is False


@pytest.mark.parametrize('extend', [-1, 1.5, True])
def test_linear_bad_extend_is_refused(extend):
    with pytest.raises(UserError, match='extend'):
        LinearProbe(extend=extend)


def test_linear_missing_train_class_is_an_error():
    rng = np.random.default_rng(6)
    means = rng.standard_normal((4, 8))
    train = clusters(rng, means, 20, 2, 0.1, labels=np.arange(20) % 3)  # classes 0-2 only
    test = clusters(rng, means, 8, 2, 0.1, labels=np.arange(8) % 4)
    with pytest.raises(ValueError, match=r'test classes \[3\] have no training'):
        LinearProbe(**FAST).evaluate(train, test)


def test_linear_train_only_classes_are_fine():
    # Class 2 has training videos but no test video: fine, and top5 = top3 here.
    rng = np.random.default_rng(7)
    means = 5.0 * rng.standard_normal((3, 8))
    train = clusters(rng, means, 30, 2, 0.1, labels=np.arange(30) % 3)
    test = clusters(rng, means, 10, 2, 0.1, labels=np.arange(10) % 2)
    assert LinearProbe(**FAST).evaluate(train, test).metrics == {'top1': 100.0, 'top5': 100.0}


# ------------------------------------------------------------------------------------ building
def test_build_protocol_by_class_or_short_name():
    assert isinstance(build_protocol({'type': 'linear', 'folds': 4}), LinearProbe)
    probe = build_protocol({'type': 'LinearProbe', 'Cs': [1.0]})
    assert probe.Cs == [1.0]
    assert build_protocol({'type': 'retrieval', 'ks': [1]}).ks == [1]
    assert PROTOCOLS.build({'type': 'Retrieval'}).name == 'retrieval'


def test_build_protocol_unknown_lists_available():
    with pytest.raises(KeyError, match='linear') as err:
        build_protocol({'type': 'no_such_protocol'})
    assert 'retrieval' in str(err.value)


def test_protocol_names_versions_and_kinds():
    classes = (LinearProbe, KNN, Retrieval, SemiSupervised, FineTune)
    assert [c.name for c in classes] == ['linear', 'knn', 'retrieval', 'semisup', 'finetune']
    assert all(isinstance(c.version, str) for c in classes)
    assert all(issubclass(c, FeatureProtocol) and not c.needs_model for c in classes[:3])
    assert all(issubclass(c, ModelProtocol) and c.needs_model for c in classes[3:])


# ----------------------------------------------------------------------------------------- knn
# Query (1, 0) of class 0. Train: (1, 0) class 0 at sim 1; (0.8, +-0.6) class 1 at sim 0.8 each;
# (-1, 0) class 2 at sim -1. With k = 3 the votes are class 0: exp(1/T), class 1: 2 exp(0.8/T).
KNN_TRAIN = feats([[1, 0], [0.8, 0.6], [0.8, -0.6], [-1, 0]], [0, 1, 1, 2])
KNN_QUERY = feats([[1, 0]], [0])


def test_knn_hand_computed_votes():
    scores = knn_class_scores(KNN_QUERY.video_level() @ KNN_TRAIN.video_level().T,
                              KNN_TRAIN.labels, np.array([0, 1, 2]), k=3, temperature=1.0)
    np.testing.assert_allclose(scores, [[np.e, 2 * np.exp(0.8), 0.0]], rtol=1e-6)


def test_knn_temperature_decides_the_vote():
    # T = 0.07: exp(1/0.07) > 2 exp(0.8/0.07) (ratio e^2.86 / 2 = 8.7): class 0 wins.
    assert KNN(k=3, temperature=0.07, topk=(1, 2)).evaluate(KNN_TRAIN, KNN_QUERY).metrics == {
        'top1': 100.0, 'top2': 100.0}
    # T = 1: e = 2.72 < 2 e^0.8 = 4.45: class 1 wins, class 0 is second.
    assert KNN(k=3, temperature=1.0, topk=(1, 2)).evaluate(KNN_TRAIN, KNN_QUERY).metrics == {
        'top1': 0.0, 'top2': 100.0}
    # k = 1: only the nearest votes.
    assert KNN(k=1, temperature=1.0, topk=(1,)).evaluate(KNN_TRAIN, KNN_QUERY).metrics == {
        'top1': 100.0}


def test_knn_defaults_clip_k_and_topk():
    metrics = KNN().evaluate(KNN_TRAIN, KNN_QUERY).metrics  # k = 20 > 4 videos, top5 > 3 classes
    assert set(metrics) == {'top1', 'top5'} and metrics['top5'] == 100.0
    assert (KNN().k, KNN().temperature) == (20, 0.07)


def test_knn_separable_clusters_and_errors():
    rng = np.random.default_rng(8)
    means = 5.0 * rng.standard_normal((5, 16))
    train, test = clusters(rng, means, 50, 2, 0.3), clusters(rng, means, 30, 2, 0.3)
    assert KNN().evaluate(train, test).metrics == {'top1': 100.0, 'top5': 100.0}
    with pytest.raises(ValueError, match='temperature'):
        KNN(temperature=0)
    with pytest.raises(ValueError, match='dims differ'):
        KNN().evaluate(train, feats([[1.0, 2.0]], [0]))


# --------------------------------------------------------------------------- semisup / finetune
def test_fraction_tags_and_configs():
    assert [fraction_tag(f) for f in (0.01, 0.1, 0.005, 1.0)] == ['1pct', '10pct', '0.5pct',
                                                                  '100pct']
    assert build_protocol({'type': 'semisup'}).fractions == [0.01, 0.1]
    assert build_protocol({'type': 'finetune', 'steps': 5}).fractions == [1.0]
    with pytest.raises(ValueError, match='semisup'):
        FineTune(fractions=(0.1,))
    with pytest.raises(ValueError, match=r'\(0, 1\]'):
        SemiSupervised(fractions=(0.0,))


# ------------------------------------------------------------------------- per-video outcomes
def assert_per_video_matches(result, num_test: int) -> None:
    """per_video: one bool per test video for every metric, averaging to the metric."""
    assert set(result.per_video) == set(result.metrics)
    for name, hits in result.per_video.items():
        assert hits.dtype == bool and hits.shape == (num_test,)
        assert 100.0 * hits.mean() == result.metrics[name]


def test_retrieval_per_video_hits_in_test_order():
    protocol = Retrieval(ks=(1, 2, 4))
    result = protocol.evaluate(GALLERY, QUERIES)
    # First-hit ranks [1, 3, 1, 4, 0] (test_first_hit_rank_hand_made).
    assert result.per_video['R@1'].tolist() == [False, False, False, False, True]
    assert result.per_video['R@2'].tolist() == [True, False, True, False, True]
    assert result.per_video['R@4'].tolist() == [True, True, True, False, True]
    assert_per_video_matches(result, 5)


def test_knn_per_video_hits():
    protocol = KNN(k=3, temperature=1.0, topk=(1, 2))
    hits = protocol.evaluate(KNN_TRAIN, KNN_QUERY).per_video
    assert hits['top1'].tolist() == [False]  # class 1 wins (see above)
    assert hits['top2'].tolist() == [True]
    rng = np.random.default_rng(10)
    means = rng.standard_normal((6, 16))
    train, test = clusters(rng, means, 60, 2, 1.5), clusters(rng, means, 50, 2, 1.5)
    result = protocol.evaluate(train, test)
    assert 0.0 < result.metrics['top1'] < 100.0
    assert_per_video_matches(result, 50)


def test_linear_per_video_hits_match_metrics_and_predictions():
    rng = np.random.default_rng(11)
    means = rng.standard_normal((8, 16))
    train, test = clusters(rng, means, 80, 2, 1.5), clusters(rng, means, 60, 2, 1.5)
    probe = LinearProbe(**FAST)
    result = probe.evaluate(train, test)
    assert 0.0 < result.metrics['top1'] < result.metrics['top5'] <= 100.0
    assert_per_video_matches(result, 60)
    hits = result.per_video
    assert not (hits['top1'] & ~hits['top5']).any()  # a top-1 hit is a top-5 hit
    # In test order: reversing the test videos reverses the hits.
    reversed_test = Features(test.clips[::-1].copy(), test.labels[::-1].copy())
    np.testing.assert_array_equal(probe.evaluate(train, reversed_test).per_video['top1'],
                                  hits['top1'][::-1])


def test_semisup_per_video_hits_average_over_subset_seeds(monkeypatch, tmp_path):
    labels = np.array([0, 1, 2, 0])
    # Two fine-tunings (subset seeds 0, 1): the first gets videos 0, 1 right, the second 0, 2.
    predictions = iter([np.eye(3)[[0, 1, 0, 1]], np.eye(3)[[0, 0, 2, 1]]])
    monkeypatch.setattr(semisup, 'read_annotations', lambda path: [('v', 0), ('w', 2)] * 3)
    monkeypatch.setattr(semisup, 'subset_file', lambda *args, **kwargs: 'subset.txt')
    labels_shown = []  # each fine-tuning's console progress label
    monkeypatch.setattr(semisup, 'finetune', lambda *args, **kwargs: (
        labels_shown.append(kwargs['progress_label']), (None, 0.0))[1])
    monkeypatch.setattr(semisup, 'predict_test_split',
                        lambda *args: (next(predictions) + 0.01 * np.arange(3), labels))
    context = ModelContext(method_cfg=Config(dict(method_name='M', model=dict(type='X'))),
                           weights=tmp_path / 'w.pth', data_root='',
                           cache_dir=None, ann_files={'train': 'train.txt', 'test': 'test.txt'},
                           view={}, work_dir=tmp_path, subset_dir=tmp_path)
    protocol = SemiSupervised(fractions=(0.1,), subset_seeds=(0, 1))
    result = protocol.evaluate_model(context)
    assert result.metrics['top1_10pct'] == pytest.approx(50.0)  # (50 + 50) / 2
    hits = result.per_video['top1_10pct']
    assert hits.shape == (2, 4) and hits.tolist() == [[True, True, False, False],
                                                     [True, False, True, False]]
    assert labels_shown == [f'M seed 0 semisup 10pct subset {k}, lr 0.001' for k in (0, 1)]
    assert set(result.per_video) == set(result.metrics)
    for name, value in result.metrics.items():
        assert 100.0 * result.per_video[name].mean() == pytest.approx(value)
    # Finetune (one run): one (M,) vector per metric.
    predictions = iter([np.eye(3)[[0, 1, 0, 1]]])
    result = FineTune().evaluate_model(context)
    assert result.per_video['top1'].tolist() == [True, True, False, False]
    assert_per_video_matches(result, 4)
