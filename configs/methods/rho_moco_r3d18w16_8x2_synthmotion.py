# rho-MoCo (Feichtenhofer et al., CVPR 2021) on SynthMotion: rho = 2 clips of 8 frames
# at stride 2 per video with independent uniformly random starts (the paper's default), each
# augmented independently.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'RhoMoCo'
model = dict(
    type='RhoMoCo',
    rho=2,  # the paper's default; rho = 3 or 4 improves its results at a higher cost
    proj_dim=128,
    # 1024 negatives: under half of the 2400 pretraining videos, so a video's own stale key
    # is rarely in the queue; ~21 steps of the global batch.
    queue_size=1024,
    # MoCo v2 uses 0.2; 0.1 as CVRL, TCLR and SimCLR here so the contrastive rows compare.
    temperature=0.1,
    # MoCo's 0.999 barely moves the keys in a run of a few hundred steps; BYOL's 0.99 with the
    # cosine schedule to 1 instead.
    base_momentum=0.99,
    momentum_schedule='cosine')
train_dataloader = dict(
    # 48 videos x 2 clips: with the momentum encoder's extra forward pass about CVRL's step.
    batch_size=48,
    dataset=dict(
        sampler=dict(type='RandomClipSampler', clip_len=8, stride=2, num_clips=2),
        # CVRL's config's augmentation (colour strength 0.5, no flip): comparable methods.
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
