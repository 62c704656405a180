"""mmengine checkpoints resume under torch's weights-only loading, and nothing else gets through."""
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner

from vssl_bench.core import compat


class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return {'loss': torch.nn.functional.cross_entropy(self.fc(inputs), data_samples)}


class _Data(torch.utils.data.Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {'inputs': torch.randn(4, generator=g), 'data_samples': torch.tensor(i % 2)}


def _runner(work_dir, max_iters):
    torch.manual_seed(0)  # the same initial weights for every run
    return Runner(
        model=_Toy(), work_dir=str(work_dir), resume=True, randomness=dict(seed=0),
        train_dataloader=dict(dataset=_Data(), batch_size=4,
                              collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=4),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)))


@pytest.fixture(autouse=True)
def no_safe_globals():
    """Each test starts without allow-listed globals (other tests' pretraining adds them to this
    process), and the previous allow-list is restored afterwards."""
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def test_checkpoint_needs_the_allow_list_and_resumes_with_it(tmp_path):
    _runner(tmp_path, 2).train()
    ckpt = tmp_path / 'iter_2.pth'
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(ckpt))
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe

    compat.allow_mmengine_checkpoints()
    state = torch.load(ckpt, weights_only=True)
    assert state['meta']['iter'] == 2
    assert len(state['message_hub']['log_scalars']['train/loss'].data[0]) == 2

    resumed = _runner(tmp_path, 4)
    resumed.train()
    assert resumed.iter == 4
    # Uninterrupted training to 4 iterations reaches the same weights.
    straight = _runner(tmp_path / 'straight', 4)
    straight.train()
    torch.testing.assert_close(resumed.model.fc.weight, straight.model.fc.weight)


class _Evil:
    def __reduce__(self):
        # Any attribute beyond the four statistics methods, e.g. one that mutates state.
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, 'update'))


def test_other_getattr_is_refused(tmp_path):
    compat.allow_mmengine_checkpoints()
    path = tmp_path / 'evil.pth'
    torch.save({'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics methods'):
        torch.load(path, weights_only=True)
