# R3D-18 in torchvision's r3d_18 layout, built by mmaction2's ResNet3d: 3x7x7 stem at spatial
# stride 2 without max-pool, basic blocks [2, 2, 2, 2] with full 3x3x3 kernels, stride 2 in time
# and space from layer2 on. base_channels=16 (a quarter of the paper's 64) so that CPU suites
# train in minutes; the feature is 8 * 16 = 128-d. Paper-scale configs set base_channels=64.
model = dict(
    backbone=dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        base_channels=16,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        with_pool1=False,
        temporal_strides=(1, 2, 2, 2),
        inflate=(1, 1, 1, 1),
        norm_eval=False))
