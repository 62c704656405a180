# The default suite (`make bench`): SynthMotion, the two headline methods between the bounds
# (RandomInit, Supervised), one seed, every protocol, under the base's matched training-FLOP
# budget, at which the self-supervised methods have time to leave their initial loss plateau.
# Breadth was traded for budget: all 8 methods x 3 seeds run in
# configs/suites/synthmotion_standard.py. With one seed the confidence intervals come from
# bootstrapping the test videos (README, "Reading the leaderboard").
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
