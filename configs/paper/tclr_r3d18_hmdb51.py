# TCLR, R3D-18 pretrained on UCF101 split-1 train (as in the UCF101 suite); linear, fine-tune
# and retrieval on HMDB51 split 1 (train -> test). A separate suite per evaluation data set: its
# pretraining is its own run of the same config (see configs/paper/README.md).
_base_ = ['../_base_/suite_tclr_ucf101.py']

suite_name = 'paper_tclr_r3d18_hmdb51'
data = dict(_delete_=True, type='hmdb51', root='data/hmdb51', split=1,
            pretrain_data=dict(type='ucf101', root='data/ucf101', split=1))
paper_reference = dict(TCLR=dict(linear=dict(top1=None), finetune=dict(top1=52.9),
                                  retrieval=dict({'R@1': None})))
