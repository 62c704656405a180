"""Which autocast dtype the harness uses: the config's bfloat16 where it is native, float32
where it is emulated or where VSSL_FLOAT32 asks for it (make ci)."""
import warnings

import pytest

from vssl_bench.core import precision


@pytest.fixture
def native(monkeypatch):
    def set_native(value: bool) -> None:
        monkeypatch.setattr(precision, 'native_bfloat16', lambda device_type: value)
    return set_native


def test_bfloat16_where_native_float32_where_emulated(native, monkeypatch):
    monkeypatch.delenv(precision.FLOAT32_ENV, raising=False)
    native(True)
    assert precision.effective_dtype('bfloat16', 'cpu') == 'bfloat16'
    assert precision.effective_dtype(None, 'cpu') is None
    native(False)
    monkeypatch.setattr(precision, '_warned', set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert precision.effective_dtype('bfloat16', 'cpu') is None
        assert precision.effective_dtype('bfloat16', 'cpu') is None
    assert len(caught) == 1 and 'no native bfloat16' in str(caught[0].message)


@pytest.mark.parametrize('value, forced', [('1', True), ('0', False), ('', False)])
def test_float32_env_overrides_native_bfloat16(native, monkeypatch, value, forced):
    native(True)
    monkeypatch.setenv(precision.FLOAT32_ENV, value)
    assert precision.effective_dtype('bfloat16', 'cpu') == (None if forced else 'bfloat16')
    assert precision.effective_dtype('float16', 'cuda') == (None if forced else 'float16')
    monkeypatch.setattr(precision.torch.cuda, 'is_available', lambda: False)
    assert precision.precision_name() == ('float32' if forced else 'bfloat16')
