# The default suite's methods, seeds and budget, evaluated with the papers' test view: 10
# uniformly spaced clips per video (the default suite uses 3 to fit its 20 minutes). The same
# pretraining as the default suite (same configs, budget and seeds, hence the same weights);
# frozen-feature protocols only. Shows how much the default suite's margins depend on its
# 3-clip view (docs/harness.md, "The default suite").
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'synthmotion_10clips'
evaluation = dict(view=dict(num_clips=10), protocols={{_base_.frozen_feature_protocols}})
