"""vssl-bench: the harness (data, pretraining, protocols, leaderboard)."""
import warnings

# mmaction2 imports mmcv's transformer bricks, which warn that mmcv-lite lacks a CUDA op that no
# model here uses; nothing a user can do about it, so it is not shown.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
