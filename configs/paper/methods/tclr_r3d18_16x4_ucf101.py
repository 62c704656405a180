# TCLR (Dave et al., CVIU 2022) at paper scale: R3D-18 without the last temporal stride, UCF101
# split-1 train, 112x112; settings from docs/reference.md. From a 64-frame window: one
# global clip of 16 frames at stride 4 (the name's 16x4) and its 4 quarters of 16 consecutive
# frames, each clip augmented twice: 10 clips per video.
_base_ = ['../../_base_/backbone_r3d18_tclr.py', '../../_base_/data_ucf101_112.py',
          '../../_base_/optim_adam_tclr.py']

method_name = 'TCLR'
model = dict(
    type='TCLR',
    proj_dim=128,  # head Linear 512 -> 512, BN, ReLU, Linear 512 -> 128, BN
    temperature=0.1,
    loss_weights=dict(ic_global=1.0, ic_local=1.0, ll=1.0, gl=1.0))
train_dataloader = dict(
    dataset=dict(
        sampler=dict(_delete_=True, type='TCLRSampler', clip_len=16, num_local=4),
        views_per_clip=2))
