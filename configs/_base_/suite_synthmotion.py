# What every SynthMotion suite shares: the data set, the methods and the protocols.
data = dict(
    type='synthmotion',  # generated on first use if missing
    root='data/synthmotion',
    scale='default',
    seed=0,
    splits=dict(pretrain='pretrain.txt', train='train.txt', test='test.txt'))
methods = [
    'configs/methods/random_init_r3d18w16_synthmotion.py',
    'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py',
    'configs/methods/tclr_r3d18w16_8x4_synthmotion.py',
    'configs/methods/frame_simclr_r3d18w16_8x1_synthmotion.py',
    'configs/methods/rho_byol_r3d18w16_8x2_synthmotion.py',
    'configs/methods/rho_moco_r3d18w16_8x2_synthmotion.py',
    'configs/methods/vcop_r3d18w16_8x1_synthmotion.py',
    'configs/methods/supervised_r3d18w16_8x2_synthmotion.py',
]
seeds = [0, 1, 2]
# The architecture of every row (vssl_bench/harness/backbone_policy.py): a method config that builds
# another backbone is refused.
backbone = 'configs/_base_/backbone_r3d18_w16.py'
# Every method spends the same training compute, counted on a real step (forward + backward of
# everything it runs): 30 TFLOPs, ~285 steps of CVRL's 128 clips, by the budget rule
# (docs/guide.md, "Picking the budget for your own data set").
pretrain = dict(budget=dict(unit='train_flops', value=30e12), warmup_ratio=0.05,
                log_interval=20)
# Fine-tuning (backbone + new linear head), searched to convergence the same way for every
# method, seed and label fraction (vssl_bench/protocols/semisup.py, "checkpoint search"): 32
# clips a step, AdamW, warm-up 10 % then cosine over 720 steps, two backbone learning rates
# (1e-3 and 3e-4, the new head at 10x), one random 8x2 clip per video, full frame, no flip;
# each run's checkpoint is scored after 120, 240, 360, 480, 600 and 720 steps, and the
# (learning rate, step) with the best top-1 on a 20 % class-stratified validation split of the
# train split wins; the test numbers are that checkpoint's. Why 720 steps (validation curves
# flat from 600 on): docs/harness.md, "Fine-tuning searched to convergence".
_finetune_search = dict(steps=720, batch_size=32, lr=1e-3, head_lr_mult=10.0, warmup_ratio=0.1,
                        eval_steps=(120, 240, 360, 480, 600),
                        candidates=[dict(lr=1e-3), dict(lr=3e-4)])
# The two bounds alone, RandomInit (untrained) and Supervised (the pretraining pool's labels):
# the learnability and validation suites of a data set run just these
# (`methods = {{_base_.bound_methods}}`).
bound_methods = [methods[0], methods[-1]]
# The protocols on frozen features; suites that skip fine-tuning take exactly these with
# `evaluation = dict(protocols={{_base_.frozen_feature_protocols}})`.
frozen_feature_protocols = [
    dict(type='LinearProbe'),
    dict(type='KNN', k=20, temperature=0.07),  # Wu et al. 2018's weighted kNN
    dict(type='Retrieval'),
]
evaluation = dict(
    # 3 uniformly spaced 8x2 clips per video, centre view at the training resolution (the papers
    # use 10; 3 keeps the 24 evaluations of the default suite within its time).
    view=dict(clip_len=8, stride=2, num_clips=3, out_size=32),
    batch_size=32,
    num_workers=0,
    protocols=frozen_feature_protocols + [
        dict(type='SemiSupervised', fractions=(0.01, 0.1), **_finetune_search),
        dict(type='FineTune', **_finetune_search),
    ])
# The linear probe beside searched full fine-tuning (configs/suites/synthmotion_finetune.py).
linear_and_finetune_protocols = [dict(type='LinearProbe'), evaluation['protocols'][-1]]
