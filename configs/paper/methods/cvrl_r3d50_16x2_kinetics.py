# CVRL (Qian et al., CVPR 2021) at paper scale: R3D-50, two 16x2 clips per video at 224x224,
# Kinetics-400 or -600 (the suite's data decides), settings from docs/reference.md.
_base_ = ['../../_base_/backbone_r3d50.py', '../../_base_/data_kinetics_224.py',
          '../../_base_/optim_sgd_cvrl.py']

method_name = 'CVRL'
model = dict(
    type='CVRL',
    proj_dim=128,
    num_hidden=3,  # 3 x (Linear 2048 -> BN -> ReLU), then Linear -> 128
    temperature=0.1)
train_dataloader = dict(
    dataset=dict(
        # Interval between the two clips drawn with density decreasing linearly to 0.
        sampler=dict(_delete_=True, type='CVRLIntervalSampler', clip_len=16, stride=2,
                     distribution='decreasing')))
