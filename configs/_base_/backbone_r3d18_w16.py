# The SynthMotion suites' backbone (each suite names this file as its `backbone`, and every method,
# RandomInit and Supervised included, is built on it): R3D-18 built by mmaction2's ResNet3d, 3x7x7
# stem at spatial stride 2 without max-pool, basic blocks [2, 2, 2, 2] with full 3x3x3 kernels,
# stride 2 in space from layer2 on. base_channels=16 (a quarter of the paper's 64) so that CPU
# suites train in minutes; the feature is 8 * 16 = 128-d.
# Time: pool2 halves it once and no layer strides it further, so an 8-frame clip keeps 4 time
# steps to the end. TCLR's global-local loss needs them (one per local clip), and on motion-only
# data they are worth ~10 points of linear top-1 to an untrained network (30.8 against 20.1 with
# strides (1, 2, 2, 2), which leave 1 step; seeds 0-2). Giving them to every method keeps that
# architecture effect out of the method comparison; it costs ~1.5x the FLOPs per clip.
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
        temporal_strides=(1, 1, 1, 1),
        inflate=(1, 1, 1, 1),
        norm_eval=False))
