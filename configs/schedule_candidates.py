# Fine-tuning schedules compared on the validation split (tools/select_schedule.py), as
# overrides of the suite's schedule. The first is the schedule used before this selection
# (40 steps); the others are three times longer, so that fine-tuning from an untrained backbone
# has room to learn.
candidates = [
    dict(steps=40, lr=5e-4, head_lr_mult=40.0),
    dict(steps=120, lr=1e-3, head_lr_mult=10.0),
    dict(steps=120, lr=3e-4, head_lr_mult=30.0),
]
