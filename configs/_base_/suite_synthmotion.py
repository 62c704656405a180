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
seeds = [0]
_finetune_schedule = dict(steps=32, batch_size=32, lr=2e-3, head_lr_mult=10.0, warmup_ratio=0.1)
evaluation = dict(
    # 5 uniformly spaced 8x2 clips per video, centre view at the training resolution.
    view=dict(clip_len=8, stride=2, num_clips=5, out_size=32),
    batch_size=32,
    num_workers=0,
    protocols=[
        dict(type='LinearProbe'),
        dict(type='KNN', k=20, temperature=0.07),  # Wu et al. 2018's weighted kNN
        dict(type='Retrieval'),
        # Fine-tuning (backbone + new linear head), the same schedule for every method and every
        # label fraction. 24 checkpoints x 3 fine-tunes must fit in the 20-minute `make bench`
        # next to pretraining, so each run is seconds long: 32 steps of 32 clips (1024 clips,
        # ~3.4 s at ~300 clips/s on 2 idle cores) plus the test split (360 videos x 5 clips).
        # Not yet measured on an idle machine: on a 2-core machine shared with other jobs (load
        # 4-5) one finetune took 30 s (train 18 s, test 13 s) and one semisup (1 % + 10 %) 99 s.
        # AdamW, lr 2e-3 as in pretraining and 10x on the new head, warm-up 10 % then cosine;
        # bfloat16 autocast; one random 8x2 clip per video, full frame, no flip (see semisup.py).
        dict(type='SemiSupervised', fractions=(0.01, 0.1), **_finetune_schedule),
        dict(type='FineTune', **_finetune_schedule),
    ])
