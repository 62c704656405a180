"""Linear evaluation protocol (CVRL / TCLR style) on frozen per-clip features.

Every training clip, L2-normalised, is one sample labelled with its video's class. Each feature is
then standardised (zero mean, unit variance) with statistics of the clips the classifier is
fitted on, and a multinomial logistic regression (L-BFGS, deterministic) is fitted on the
training split only. Its inverse regularisation strength C is chosen by cross-validation on the
training split with folds grouped by video (each fold standardised with its own fitting clips);
where the best C lies at an edge of the grid, the grid grows by a decade on that side (up to
``extend`` times), so the choice is not cut off by the grid. The classifier is then refitted on
all training clips. A test video's prediction is the average of its clips' softmax probabilities.

Version 2 (standardisation, the wider grid and its extension): version 1 fitted the L2-normalised
clips as they were. Pooled ReLU features of a trained network point almost the same way, so
their L2-normalised differences are small; the regularisation then dominated, the largest C of
the grid won almost every time while cross-validation was still rising, and on nearly collinear
features the probe stayed at chance where kNN did not (docs/harness.md, "Linear probe v2").
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.engine.features import Features
from vssl_bench.protocols.base import FeatureProtocol, ProtocolResult


def clip_samples(features: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten (N, K, D) clips into samples.

    Returns x (N*K, D) float64 L2-normalised clips, y (N*K,) labels repeated over clips and
    groups (N*K,) the video index of each clip (clips of a video are contiguous).
    """
    n, k, d = features.clips.shape
    x = features.clips.reshape(n * k, d).astype(np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x, np.repeat(features.labels, k), np.repeat(np.arange(n), k)


def video_probs(clf: LogisticRegression | Pipeline, clips: np.ndarray,
                num_clips: int) -> np.ndarray:
    """(N, C) class probabilities of N videos: mean softmax over their ``num_clips`` clips.

    clips: (N*K, D) normalised clip features, video-major. Columns follow ``clf.classes_``.
    """
    probs = clf.predict_proba(clips)
    return probs.reshape(-1, num_clips, probs.shape[1]).mean(axis=1)


def topk_hits(probs: np.ndarray, classes: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: whether each row's label is among its k most probable ``classes``.

    Exact probability ties are broken towards the lower column (stable sort), so the result is
    deterministic.
    """
    top = np.argsort(-probs, axis=1, kind='stable')[:, :k]
    return (classes[top] == labels[:, None]).any(axis=1)


def topk_accuracy(probs: np.ndarray, classes: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Percentage of rows whose label is among the k most probable ``classes`` (the mean of
    :func:`topk_hits`)."""
    return float(100.0 * np.mean(topk_hits(probs, classes, labels, k)))


def best_c(scores: dict[float, float]) -> float:
    """The C with the best score; ties go to the smallest C (the strongest regularisation)."""
    best = max(scores.values())
    return min(c for c, s in scores.items() if s == best)


@PROTOCOLS.register_module()
class LinearProbe(FeatureProtocol):
    """Linear probe with video-grouped cross-validation of C on the training split.

    Args:
        Cs: grid of inverse regularisation strengths (on standardised features); the value with
            the best mean CV video-level top-1 wins (ties: the smallest C, i.e. the strongest
            regularisation). A single value skips cross-validation.
        extend: how many times the grid may grow by one decade (a tenth of its smallest value or
            ten times its largest) while the winner lies at that edge, strictly better than its
            neighbour. The result's ``info['grid_edge']`` says whether the final winner still
            lies at an edge of a grid of two or more values.
        standardise: standardise the features before the fit (False, with ``Cs=(0.1, 1, 10,
            100, 1000)`` and ``extend=0``: version 1's probe, for comparisons).
        folds: number of cross-validation folds (clipped to the number of training videos).
        max_iter: L-BFGS iteration cap of every fit.
        tol: L-BFGS tolerance.
        blas_threads: BLAS threads during the fits (None: library default). The matrices are
            small, so multi-threaded BLAS mostly adds synchronisation; on a busy machine it made
            fits 10-50x slower than one thread.

    The result's ``info`` holds the chosen C and the CV scores, ``per_video`` each metric's
    (M,) bool hits of the test videos.
    """

    name = 'linear'
    version = '2'
    changes = {'2': 'standardises the features before the fit and grows its C grid at an edge '
                    '(v1 under-fitted: its largest C won most fits while cross-validation still '
                    'rose, and nearly collinear features stayed near chance)'}

    def __init__(self, Cs: Sequence[float] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0),
                 extend: int = 2, standardise: bool = True, folds: int = 3,
                 max_iter: int = 1000, tol: float = 1e-4,
                 blas_threads: int | None = 1) -> None:
        self.Cs = sorted(float(c) for c in Cs)
        if not self.Cs or self.Cs[0] <= 0:
            raise UserError(f'LinearProbe Cs must be positive, got {list(Cs)}')
        if folds < 2:
            raise UserError(f'LinearProbe needs folds >= 2, got {folds}')
        if isinstance(extend, bool) or not isinstance(extend, int) or extend < 0:
            raise UserError(f'LinearProbe extend must be an integer >= 0, got {extend!r}')
        self.extend = extend
        self.standardise = bool(standardise)
        self.folds = int(folds)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.blas_threads = blas_threads

    def _fit(self, x: np.ndarray, y: np.ndarray, c: float,
             seed: int) -> Pipeline | LogisticRegression:
        """Standardise with ``x``'s own statistics (unless ``standardise`` is off), then fit the
        logistic regression."""
        clf = LogisticRegression(C=c, solver='lbfgs', max_iter=self.max_iter, tol=self.tol,
                                 random_state=seed)
        if self.standardise:
            clf = make_pipeline(StandardScaler(), clf)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', ConvergenceWarning)
            clf.fit(x, y)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            # One concise warning instead of sklearn's long one, once per fit.
            warnings.warn(f'LinearProbe: L-BFGS did not converge in {self.max_iter} iterations '
                          f'(C={c:g}); consider a larger max_iter', ConvergenceWarning,
                          stacklevel=3)
        return clf

    def _cv_score(self, x: np.ndarray, y: np.ndarray, num_clips: int, c: float,
                  splits: list[tuple[np.ndarray, np.ndarray]], seed: int) -> float:
        """Mean over folds of the held-out video-level top-1 (percent).

        splits: (fit, validation) clip indices, whole videos, each video's clips contiguous.
        """
        scores = []
        for fit_idx, val_idx in splits:
            val_labels = y[val_idx][::num_clips]  # Clips of a video stay contiguous.
            if len(np.unique(y[fit_idx])) < 2:
                # A single class cannot be fitted; the constant predictor is what is learnt.
                scores.append(100.0 * np.mean(val_labels == y[fit_idx][0]))
                continue
            clf = self._fit(x[fit_idx], y[fit_idx], c, seed)
            probs = video_probs(clf, x[val_idx], num_clips)
            scores.append(topk_accuracy(probs, clf.classes_, val_labels, 1))
        return float(np.mean(scores))

    def select_c(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray, num_clips: int,
                 seed: int) -> tuple[float, dict[str, Any]]:
        """C of the grid with the best grouped-CV top-1 on the training samples only, and what
        the search saw: ``cv_top1`` (C -> score) and, for a grid, ``grid_edge``."""
        num_videos = int(groups[-1]) + 1
        if len(self.Cs) == 1 or num_videos < 2:
            return self.Cs[0], {'cv_top1': {}}
        # Shuffled grouped folds: videos are whole in one fold, and a class-sorted split does
        # not turn into class-disjoint folds.
        cv = GroupKFold(n_splits=min(self.folds, num_videos), shuffle=True, random_state=seed)
        splits = list(cv.split(x, y, groups))
        scores = {c: self._cv_score(x, y, num_clips, c, splits, seed) for c in self.Cs}
        for _ in range(self.extend):
            grid = sorted(scores)
            chosen = best_c(scores)
            if chosen == grid[-1]:  # every smaller C is strictly worse
                new = grid[-1] * 10.0
            elif chosen == grid[0] and scores[grid[1]] < scores[chosen]:
                new = grid[0] / 10.0
            else:
                break
            scores[new] = self._cv_score(x, y, num_clips, new, splits, seed)
        grid, chosen = sorted(scores), best_c(scores)
        return chosen, {'cv_top1': {f'{c:g}': scores[c] for c in grid},
                        'grid_edge': bool(chosen == grid[-1] or (
                            chosen == grid[0] and scores[grid[1]] < scores[chosen]))}

    def evaluate(self, train: Features, test: Features, seed: int = 0) -> ProtocolResult:
        """Top-1 / top-5 video accuracy on ``test`` of a probe fitted on ``train``.

        Raises ValueError if a test class has no training video (the probe could never predict
        it, so the accuracy would be silently capped) or if train has fewer than 2 classes.
        """
        if train.clips.shape[2] != test.clips.shape[2]:
            raise ValueError(f'Feature dims differ: train {train.clips.shape[2]}, test '
                             f'{test.clips.shape[2]}')
        train_classes = np.unique(train.labels)
        missing = np.setdiff1d(np.unique(test.labels), train_classes)
        if missing.size:
            raise UserError(f'LinearProbe: test classes {missing.tolist()} have no training '
                            f'video; fix the split')
        if train_classes.size < 2:
            raise UserError(f'LinearProbe needs at least 2 training classes, got '
                            f'{train_classes.tolist()}')
        x, y, groups = clip_samples(train)
        x_test, _, _ = clip_samples(test)
        with threadpool_limits(limits=self.blas_threads, user_api='blas'):
            c, info = self.select_c(x, y, groups, train.clips.shape[1], seed)
            clf = self._fit(x, y, c, seed)
            probs = video_probs(clf, x_test, test.clips.shape[1])
        k5 = min(5, len(clf.classes_))
        return ProtocolResult.from_hits(
            {'top1': topk_hits(probs, clf.classes_, test.labels, 1),
             'top5': topk_hits(probs, clf.classes_, test.labels, k5)}, info=dict(info, C=c))
