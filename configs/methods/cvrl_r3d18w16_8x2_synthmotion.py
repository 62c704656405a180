# CVRL (Qian et al., CVPR 2021) on SynthMotion: two 8x2 clips per video at a temporal interval
# drawn with density decreasing linearly, temporally consistent augmentation per clip.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'CVRL'
model = dict(
    type='CVRL',
    proj_dim=128,
    num_hidden=3,  # the paper's 3 x (Linear -> BN -> ReLU) head, at the backbone's width
    temperature=0.1)
train_dataloader = dict(
    batch_size=64,  # 128 clips per step: more negatives per anchor than the supervised batch
    dataset=dict(
        sampler=dict(_delete_=True, type='CVRLIntervalSampler', clip_len=8, stride=2,
                     distribution='decreasing'),
        # Colour strength 0.5 instead of the paper's 1.0 (0.8/0.8/0.8/0.2): at 1.0 the
        # contrastive loss stayed near chance for 600 steps on 32x32 SynthMotion (measured, see
        # docs/calibration.md). Crop area [0.3, 1], grayscale (p 0.2) and blur (p 0.5, sigma
        # scaled to 32 px) are the paper's.
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
