# TCLR (Dave et al., CVIU 2022) on SynthMotion, scaled from the paper's 64-frame window to the
# 48-frame videos: a random 32-frame window gives one global clip of 8 frames at stride 4 (the
# name's 8x4) and 4 local clips of 8 consecutive frames (its quarters); each clip augmented
# twice, so 10 clips per video.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'TCLR'
model = dict(
    type='TCLR',
    # The global-local loss needs the global clip's feature map to keep 4 time steps, one per
    # local clip: the suite's backbone keeps them for every method (backbone_r3d18_w16.py).
    proj_dim=128,
    temperature=0.1,
    loss_weights=dict(ic_global=1.0, ic_local=1.0, ll=1.0, gl=1.0))
train_dataloader = dict(
    # 12 videos = 120 clips per step, ~100 GFLOP (fwd + bwd), about CVRL's 128 clips (the
    # harness matches total FLOPs). Fewer videos would leave IC global very few negatives (the
    # paper: 40).
    batch_size=12,
    dataset=dict(
        sampler=dict(_delete_=True, type='TCLRSampler', clip_len=8, num_local=4),
        views_per_clip=2,
        # CVRL's config's augmentation (colour strength 0.5, no flip) for comparable methods,
        # not TCLR's own (weaker colour ops, flip, random erasing).
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
