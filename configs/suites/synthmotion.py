# The default suite (`make bench`): SynthMotion, the two headline methods between the bounds
# (RandomInit, Supervised), one seed, the frozen-feature protocols (linear probe, kNN,
# retrieval), under the base's matched training-FLOP budget, at which the self-supervised
# methods have time to leave their initial loss plateau. Breadth was traded for time: the
# fine-tuning protocols' search to convergence (2 learning rates x 720 steps per method and
# label fraction, ~12 minutes a method on 2 cores) and all 8 methods x 3 seeds run in
# configs/suites/synthmotion_standard.py. One seed: the intervals cover the test videos only
# and no difference is tested (README, "Reading a leaderboard").
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion'
_m = 'configs/methods/'
methods = [
    _m + 'random_init_r3d18w16_synthmotion.py',
    _m + 'cvrl_r3d18w16_8x2_synthmotion.py',
    _m + 'tclr_r3d18w16_8x4_synthmotion.py',
    _m + 'supervised_r3d18w16_8x2_synthmotion.py',
]
seeds = [0]
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
