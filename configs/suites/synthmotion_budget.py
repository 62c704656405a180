# The budget curve of the SynthMotion suites: accuracy against training compute, to see where each
# self-supervised method leaves its initial loss plateau and whether the suite budget (30 TFLOPs)
# lies past it. `vssl-bench run configs/suites/synthmotion_budget.py --budget-scale 1,0.25,0.5,2`
# trains every method at those fractions of the budget (1x shares its weights with the default and
# the standard suite: same method configs, budget and data) and draws
# results/synthmotion_budget/budget_curve.png, RandomInit as a band on every panel.
# The frozen-feature protocols only: fine-tuning every point would cost ~14 min per point on
# 2 CPU cores, and the take-off shows in the frozen features first.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion_budget'
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
