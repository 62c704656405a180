"""vssl-bench: the harness (data, pretraining, protocols, leaderboard)."""
import warnings

# mmaction2 imports mmcv's transformer bricks, which warn that mmcv-lite lacks a CUDA op that no
# model here uses; nothing a user can do about it, so it is not shown.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')

# `{{$VSSL_BENCH_CONFIGS:}}` in a config's _base_ paths: the shared configs, wherever installed.
from vssl_bench.core.config_root import export_configs_root  # noqa: E402

export_configs_root()
