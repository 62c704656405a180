# SimCLR on single frames, inflated (CVRL's "SimCLR on frames" row): each clip is one random
# frame repeated 8 times (no motion at all), two augmented views of it; everything else is
# CVRL's config, so the pair measures what temporal clips add. "8x1": 8 copies of one frame.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'FrameSimCLR'
model = dict(
    type='FrameSimCLR',
    proj_dim=128,
    num_hidden=3,  # CVRL's head, so that only the input differs
    temperature=0.1)
train_dataloader = dict(
    batch_size=64,  # as CVRL: 128 clips per step
    dataset=dict(
        sampler=dict(_delete_=True, type='FrameSampler', clip_len=8, num_clips=1),
        views_per_clip=2,
        # CVRL's config's augmentation (colour strength 0.5, no flip): comparable methods.
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
