# CVRL's ablations at SynthMotion scale (Qian et al., CVPR 2021, Tables 3 and 5): temporally
# consistent vs per-frame independent spatial augmentation, and the interval between the two
# clips drawn with density decreasing (the paper's default), uniform, or increasing (P(t) ~ t).
# Every variant spends the default suite's budget; RandomInit is the floor.
_base_ = ['../_base_/suite_synthmotion.py']

suite_name = 'cvrl_ablations'
_cvrl = 'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py'
methods = [
    'configs/methods/random_init_r3d18w16_synthmotion.py',
    _cvrl,  # decreasing interval, temporally consistent augmentation
    dict(config=_cvrl, name='CVRL-per-frame-aug',
         overrides=dict(train_dataloader=dict(dataset=dict(transform=dict(consistent=False))))),
    dict(config=_cvrl, name='CVRL-uniform-interval',
         overrides=dict(train_dataloader=dict(dataset=dict(sampler=dict(
             distribution='uniform'))))),
    dict(config=_cvrl, name='CVRL-increasing-interval',
         overrides=dict(train_dataloader=dict(dataset=dict(sampler=dict(
             distribution='increasing'))))),
]
# The frozen-feature protocols only: fine-tuning 15 more checkpoints would double the suite's
# time, and the papers' ablation tables are linear-probe (CVRL) or retrieval/linear (TCLR) ones.
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
