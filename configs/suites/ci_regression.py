# The accuracy-regression proof of CI (`make ci`, tests/test_ci_regression.py): Supervised alone on
# default SynthMotion with enough compute to be far above chance (5 TFLOPs: ~140 steps of 64
# clips; over 3 seeds it reaches 53 % linear top-1 at 2.5 TFLOPs, 80 % at the default suite's
# 4), so that a deliberately broken training (labels shuffled) is a drop far beyond the
# tolerance measured over seeds. The CI suite (ci.py) runs every method and protocol on the
# smaller `ci` scale; this suite is the one that shows `vssl-bench check` catches a real
# regression.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'ci_regression'
methods = ['configs/methods/supervised_r3d18w16_8x2_synthmotion.py']
pretrain = dict(budget=dict(unit='train_flops', value=5e12), warmup_ratio=0.05, log_interval=50)
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
