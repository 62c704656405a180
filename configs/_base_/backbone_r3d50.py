# R3D-50 of CVRL (Qian et al., CVPR 2021; see docs/reference.md, CVRL), built by mmaction2's
# ResNet3d: ResNet-50 bottlenecks [3, 4, 6, 3] inflated to 3D, 2048-d output.
model = dict(
    backbone=dict(
        type='ResNet3d',
        depth=50,
        pretrained=None,
        pretrained2d=False,
        base_channels=64,
        # Stem 5x7x7 at stride (2, 2, 2), then max-pool 1x3x3 at stride (1, 2, 2).
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=2,
        conv1_stride_s=2,
        with_pool1=True,
        pool1_stride_t=1,
        pool1_stride_s=2,
        # mmaction2's pool2 would halve time after res2; CVRL's R3D-50 has no such pool.
        with_pool2=False,
        # Temporal kernel 1 in res2 and res3, 3 (3x1x1 on the bottleneck's first conv) in res4
        # and res5; no temporal stride after the stem.
        inflate=(0, 0, 1, 1),
        inflate_style='3x1x1',
        temporal_strides=(1, 1, 1, 1),
        # The paper trains with synchronised BN; under a distributed launcher set
        # norm_cfg=dict(type='SyncBN', requires_grad=True) in the method config.
        norm_eval=False))
