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
evaluation = dict(
    # 5 uniformly spaced 8x2 clips per video, centre view at the training resolution.
    view=dict(clip_len=8, stride=2, num_clips=5, out_size=32),
    batch_size=32,
    num_workers=0,
    protocols=[dict(type='LinearProbe'), dict(type='Retrieval')])
