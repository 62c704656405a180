# Where SynthMotion's upper bound learns: Supervised (and the untrained RandomInit level) at
# fractions of the base budget, frozen-feature protocols. Run with
#   vssl-bench run configs/suites/synthmotion_learnability.py \
#       --budget-scale 0.0625,0.125,0.25,0.5,1 --out results/synthmotion_learnability
# budget_curve.md then gives the budget rule (vssl_bench/report/budget_curve.py, budget_rule): the
# smallest budget from which Supervised keeps >= 60 % linear top-1, and 8x that as the budget
# the suite should use. The same suite shape checks any new data set (docs/guide.md,
# "Picking the budget for your own data set").
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion_learnability'
methods = {{_base_.bound_methods}}
seeds = [0]
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
