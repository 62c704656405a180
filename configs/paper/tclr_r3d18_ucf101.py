# TCLR, R3D-18 pretrained on UCF101 split-1 train; linear, fine-tune and retrieval on UCF101
# split 1 (train -> test).
_base_ = ['../_base_/suite_tclr_ucf101.py']

suite_name = 'paper_tclr_r3d18_ucf101'
data = dict(type='ucf101', root='data/ucf101', split=1)
# {method: {protocol: {metric: value}}}, percent. The paper's abstract gives fine-tune and R@1;
# its linear number is unconfirmed (None).
paper_reference = dict(TCLR=dict(linear=dict(top1=None), finetune=dict(top1=82.4),
                                  retrieval=dict({'R@1': 56.2})))
# What the authors' released code reproduces (its README): a second column.
paper_reference_code = dict(TCLR=dict(linear=dict(top1=69.9), finetune=dict(top1=82.0),
                                       retrieval=dict({'R@1': 56.1})))
