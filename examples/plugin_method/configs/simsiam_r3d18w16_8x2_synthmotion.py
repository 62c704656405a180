# SimSiam (Chen & He, CVPR 2021) on SynthMotion, two 8x2 clips of a video as the two views: an
# out-of-tree method. Its module is imported by custom_imports below (needs the folder
# examples/plugin_method on PYTHONPATH, or the package installed); when the package is installed
# its vssl_bench.methods entry point registers it too and custom_imports may be deleted.
# The _base_ configs are vssl-bench's own, wherever it is installed: mmengine replaces
# {{$VSSL_BENCH_CONFIGS:}} with that environment variable, which vssl-bench sets to the folder of
# its shared configs (vssl_bench/core/config_root.py).
_base_ = ['{{$VSSL_BENCH_CONFIGS:}}/_base_/backbone_r3d18_w16.py',
          '{{$VSSL_BENCH_CONFIGS:}}/_base_/data_synthmotion.py',
          '{{$VSSL_BENCH_CONFIGS:}}/_base_/optim_adamw.py']

custom_imports = dict(imports=['vssl_example_plugin'], allow_failed_imports=False)

method_name = 'VideoSimSiam'
model = dict(
    type='VideoSimSiam',
    proj_dim=128,  # the backbone's width (128-d at base_channels=16)
    pred_hidden_dim=32)  # the paper's bottleneck: a quarter of proj_dim
train_dataloader = dict(
    batch_size=64,  # 128 clips per step, as CVRL's config: BN statistics over many clips
    dataset=dict(
        # CVRL's interval sampler: two clips of the video, more often close than far apart.
        sampler=dict(_delete_=True, type='CVRLIntervalSampler', clip_len=8, stride=2,
                     distribution='decreasing'),
        # The same colour strength 0.5 as CVRL's SynthMotion config, so the two compare at
        # equal augmentation.
        transform=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)))
