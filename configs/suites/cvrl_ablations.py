# CVRL's ablations at SynthMotion scale (Qian et al., CVPR 2021, Tables 3 and 5): temporally
# consistent vs per-frame independent spatial augmentation, and the interval between the two
# clips drawn with density decreasing (the paper's default), uniform, or increasing (P(t) ~ t).
# Every variant spends the suites' shared SynthMotion budget (30 TFLOPs, as the standard suite);
# RandomInit is the floor. `ablation` says what the paper found; the leaderboard gets a verdict
# per variant and headline column (vssl_bench/report/ablation.py,
# results/cvrl_ablations/ablation.md).
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
ablation = dict(reference='CVRL', claims=[
    dict(variant='CVRL-per-frame-aug', expect='below',
         paper='the paper finds drawing the spatial augmentation once per clip (the same crop, '
               'flip and colour change on every frame) clearly better than drawing it per frame, '
               'which breaks the motion between frames'),
    dict(variant='CVRL-uniform-interval', expect='below',
         paper='the paper finds its interval distribution, decreasing with the gap between the '
               'two clips, better than a uniform one'),
    dict(variant='CVRL-increasing-interval', expect='below',
         paper='the paper finds the decreasing distribution better than one that favours large '
               'gaps (density increasing with the gap)'),
])
# The frozen-feature protocols only: fine-tuning 15 more checkpoints would double the suite's
# time, and the papers' ablation tables are linear-probe (CVRL) or retrieval/linear (TCLR) ones.
evaluation = dict(protocols={{_base_.frozen_feature_protocols}})
