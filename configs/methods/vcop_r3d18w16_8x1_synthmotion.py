# VCOP (Xu et al., CVPR 2019) on SynthMotion: 3 clips of 8 consecutive frames in temporal order,
# non-overlapping with random gaps (the paper: 16-frame clips, 8-frame gaps); the model shuffles
# them and classifies which of the 6 orders it applied. Stride 1 (not CVRL's 2): three 8x2
# clips span 45 of the 48 frames, which would leave the gaps almost no room, and without gaps
# the order can be read off low-level continuity at the clip borders.
_base_ = ['../_base_/backbone_r3d18_w16.py', '../_base_/data_synthmotion.py',
          '../_base_/optim_adamw.py']

method_name = 'VCOP'
model = dict(type='VCOP', num_clips=3, dropout=0.5)
train_dataloader = dict(
    batch_size=40,  # 120 clips per step: about CVRL's 128
    dataset=dict(
        sampler=dict(_delete_=True, type='OrderedClipsSampler', clip_len=8, stride=1,
                     num_clips=3),
        # CVRL's config's augmentation (colour strength 0.5, no flip): each clip augmented
        # independently, which also hides colour continuity between clips.
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
