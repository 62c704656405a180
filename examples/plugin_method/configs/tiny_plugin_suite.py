# The seconds-long tiny suite (configs/suites/tiny.py) with the plugin method next to two in-tree
# ones: how a suite lists an out-of-tree config. Paths are relative to this file
# ({{ fileDirname }}), so the suite runs from any working directory.
_base_ = ['../../../configs/suites/tiny.py']

suite_name = 'tiny_plugin'
methods = [
    '{{ fileDirname }}/../../../configs/methods/random_init_r3d18w16_synthmotion.py',
    '{{ fileDirname }}/../../../configs/methods/cvrl_r3d18w16_8x2_synthmotion.py',
    '{{ fileDirname }}/simsiam_r3d18w16_8x2_synthmotion.py',
]
