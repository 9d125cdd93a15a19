import pytest
import torch

from pydisent import _C
from pydisent._dispatch import build_info, ref, resolve_backend


def test_module_reports_build():
    info = build_info()
    assert info["openmp_threads"] >= 1
    assert isinstance(info["built_with_cuda"], bool)
    assert info["cuda_devices"] >= 0
    if not info["built_with_cuda"]:
        assert info["cuda_devices"] == 0


def test_tensor_ref_roundtrip():
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()
    r = ref(t)
    assert r.shape == [4, 3] and r.strides == [1, 4]
    assert r.ptr == t.data_ptr() and r.device == -1 and r.dtype == _C.DType.float64


def test_tensor_ref_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="dtype"):
        ref(torch.zeros(2, dtype=torch.complex64))


def test_tensor_ref_rejects_bad_shape():
    with pytest.raises(ValueError, match="shape and strides"):
        _C.TensorRef(0, _C.DType.float32, -1, [2, 2], [1])


def test_resolve_backend():
    x = torch.zeros(2, 2)
    assert resolve_backend("auto", x) == "cpu"
    assert resolve_backend("cpu", x) == "cpu"
    assert resolve_backend("torch", x) == "torch"
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("gpu", x)


def test_cuda_backend_without_gpu_is_a_clear_error():
    if torch.cuda.is_available() and _C.cuda_device_count():
        pytest.skip("a GPU is present")
    with pytest.raises((RuntimeError, ValueError), match="backend='cuda'"):
        resolve_backend("cuda", torch.zeros(2))


def test_omp_threads_checked():
    with pytest.raises(ValueError, match="'n'"):
        _C.set_omp_threads(0)


def test_tensor_ref_keeps_temporary_alive():
    import gc

    r = ref(torch.arange(1000, dtype=torch.float64) + 1)
    gc.collect()
    _ = [torch.zeros(1000, dtype=torch.float64) for _ in range(10)]  # would reuse freed memory
    assert r._owner.data_ptr() == r.ptr and float(r._owner[999]) == 1000.0
