# The synthetic family: three generated data sets of one format (32 px, 48 frames, 12 classes
# told apart by time only; docs/datasets.md), each a different temporal phenomenon: motion
# (SynthMotion), the timing of flashes where nothing moves (SynthEvents) and two-object
# interactions (SynthInteract). Every method pretrains once per data set, at that data set's
# budget, and is evaluated on all three with the frozen-feature protocols; `vssl-bench family`
# writes each member's leaderboard and how well the data sets rank the methods alike
# (family.md). Results: results/synth_family/.
_base_ = ['../_base_/suite_synthmotion.py']

family_name = 'synth_family'
# Budgets by the budget rule (vssl_bench/report/budget_curve.py, docs/guide.md "Picking the
# budget"): 8 x the smallest budget from which Supervised keeps >= 60 % linear top-1 on that data
# set (results/synthmotion_learnability, results/*_check: 3.7 and 7.5 TFLOPs).
datasets = dict(
    synthmotion=dict(data=dict(type='synthmotion', root='data/synthmotion'),
                     budget=dict(unit='train_flops', value=30e12)),
    synthevents=dict(data=dict(type='synthevents', root='data/synthevents'),
                     budget=dict(unit='train_flops', value=60e12)),
    synthinteract=dict(data=dict(type='synthinteract', root='data/synthinteract'),
                       budget=dict(unit='train_flops', value=60e12)),
)
transfer = True  # also evaluate every data set after pretraining on each other one
seeds = [0]
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
