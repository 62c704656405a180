# The seconds-long tiny suite (vssl-bench's configs/suites/tiny.py) with the plugin method next to
# two in-tree ones: how a suite outside vssl-bench inherits its suites and lists its method
# configs. `{{$VSSL_BENCH_CONFIGS:}}` is wherever vssl-bench's configs are (its checkout's
# configs/ or the installed copy), `configs/methods/...` paths resolve there too, and the plugin's
# own config is relative to this file ({{ fileDirname }}), so the suite runs from any working
# directory, with or without a vssl-bench checkout.
_base_ = ['{{$VSSL_BENCH_CONFIGS:}}/suites/tiny.py']

suite_name = 'tiny_plugin'
methods = [
    'configs/methods/random_init_r3d18w16_synthmotion.py',
    'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py',
    '{{ fileDirname }}/simsiam_r3d18w16_8x2_synthmotion.py',
]
