# R3D-18 of TCLR (Dave et al., CVIU 2022; see docs/reference.md, TCLR) in torchvision's r3d_18
# layout, built by mmaction2's ResNet3d: 3x7x7 stem at spatial stride 2 without max-pool, basic
# blocks [2, 2, 2, 2] with full 3x3x3 kernels, 64 base channels (512-d feature).
model = dict(
    backbone=dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        base_channels=64,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        with_pool1=False,
        # torchvision's r3d_18 has no pool after layer1 (mmaction2's pool2 halves time).
        with_pool2=False,
        # Stride 2 in time from layer2 on, except layer4: TCLR removes the last temporal stride
        # so that a 16-frame clip leaves 4 time steps (16 -> 8 -> 4 -> 4) for its global-local
        # loss. DEVIATION: TCLR also dilates layer4's 3x3x3 convs in time; mmaction2's ResNet3d
        # dilates only in space (dilation=(1, d, d)), so layer4 keeps dilation 1 here.
        temporal_strides=(1, 2, 2, 1),
        inflate=(1, 1, 1, 1),
        norm_eval=False))
