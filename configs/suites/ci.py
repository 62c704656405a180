# The CI regression suite (`.ci/run`, `make ci`): every method and every protocol, one seed, on
# SynthMotion at scale `ci` (the default 48-frame 32x32 videos, 40 / 20 / 15 per class), sized
# for minutes on 2 CPU cores. Its numbers are compared with results/reference/ci.json by
# `vssl-bench check`; they are a regression signal, not a leaderboard
# (see results/reference/README.md).
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'ci'
data = dict(root='data/synthmotion_ci', scale='ci')
_m = 'configs/methods/'
methods = [
    _m + 'random_init_r3d18w16_synthmotion.py',
    _m + 'cvrl_r3d18w16_8x2_synthmotion.py',
    _m + 'tclr_r3d18w16_8x4_synthmotion.py',
    _m + 'frame_simclr_r3d18w16_8x1_synthmotion.py',
    _m + 'rho_byol_r3d18w16_8x2_synthmotion.py',
    _m + 'rho_moco_r3d18w16_8x2_synthmotion.py',
    _m + 'vcop_r3d18w16_8x1_synthmotion.py',
    # Batch 16 instead of 64: under this budget the 64-clip batch gave 114 steps and a linear
    # probe at chance (10.6 %), 16 clips gave 457 steps and 23.9 % at 4 TFLOPs (measured on
    # the 8-scene SynthMotion v4, shared 2-core machine). Supervised must leave chance for the
    # check to catch a broken training loop (tests/test_ci_regression.py).
    dict(config=_m + 'supervised_r3d18w16_8x2_synthmotion.py',
         overrides=dict(train_dataloader=dict(batch_size=16))),
]
# 3 TFLOPs of training per method (Supervised: ~340 steps of 16 clips; CVRL: 43 steps of 128):
# tens of seconds per method on 2 idle cores, so that the 3-seed reference fits in minutes.
pretrain = dict(budget=dict(unit='train_flops', value=3e12), warmup_ratio=0.1, log_interval=25)
# Pretraining keeps the method configs' one data-loading worker: with none, CVRL's step waited
# 1.1-1.6 s of its 2.2-2.8 s for data (measured on the loaded shared 2-core machine).
# Fine-tuning schedules cut to seconds; the same for every method as in the base suite.
_ft = dict(batch_size=16, lr=2e-3, head_lr_mult=10.0, warmup_ratio=0.1, num_workers=0,
           log_interval=10)
evaluation = dict(
    view=dict(num_clips=2),  # 2 clips per video instead of 5 (features, fine-tuning test)
    protocols=[
        dict(type='LinearProbe', folds=2),  # 20 train videos per class: 2-fold C selection
        dict(type='KNN', k=10, temperature=0.07),  # k=20 would span the 20 videos of a class
        dict(type='Retrieval'),
        dict(type='SemiSupervised', fractions=(0.01, 0.1), steps=8, **_ft),  # 1 / 2 per class
        dict(type='FineTune', steps=24, **_ft),
    ])
