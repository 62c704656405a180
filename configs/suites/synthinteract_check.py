# Validation of the generated data set SynthInteract (vssl_bench/data/synthinteract.py) as a
# downstream data set: its learnability bounds under the default suite's 30-TFLOP budget, one seed,
# frozen-feature protocols only. RandomInit (no training) is the floor; Supervised (trained on the
# pretrain pool's labels) must be well above chance (8.3 %) for the data set to be usable, while
# single frames stay at chance (tests/test_generated_datasets.py).
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthinteract_check'
data = dict(type='synthinteract', root='data/synthinteract')  # generated on first use; scale, seed, splits: base
# SynthMotion's method configs: same backbone, clips (8x2) and augmentation. No flip is
# needed here either: a mirror changes no class of SynthInteract, but the configs are shared.
methods = {{_base_.bound_methods}}
seeds = [0]
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
