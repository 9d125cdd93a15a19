"""Backend selection and the hand-off of torch tensors to the compiled kernels.

Every kernel has three paths:

* ``"cuda"``: the CUDA kernel of ``pydisent._C`` (CUDA tensors only),
* ``"cpu"``: the C++/OpenMP kernel of ``pydisent._C`` (CPU tensors only),
* ``"torch"``: plain PyTorch, kept as the reference the parity tests compare against.

``"auto"`` picks ``"cuda"`` for CUDA tensors and ``"cpu"`` for CPU tensors. Python allocates every
output and workspace with torch (so the caching allocator owns GPU memory) and passes
:class:`pydisent._C.TensorRef` views plus the current CUDA stream to the kernels.
"""

from __future__ import annotations

import torch

from pydisent import _C
from pydisent._validation import check_backend

BACKENDS = ("auto", "cuda", "cpu", "torch")

_DTYPES = {
    torch.float32: _C.DType.float32,
    torch.float64: _C.DType.float64,
    torch.int32: _C.DType.int32,
    torch.int64: _C.DType.int64,
    torch.uint8: _C.DType.uint8,
    torch.bool: _C.DType.bool,
}


def cuda_available() -> bool:
    """True when both this build has CUDA kernels and torch sees a GPU."""
    return bool(_C.has_cuda()) and torch.cuda.is_available() and _C.cuda_device_count() > 0


def resolve_backend(backend: str, *tensors: torch.Tensor) -> str:
    """Map ``backend`` to ``"cuda" | "cpu" | "torch"`` for ``tensors`` (already on one device).

    Raises ``ValueError`` for an unknown name, a backend that does not match the tensors' device,
    and ``RuntimeError`` for ``backend="cuda"`` without a usable GPU build.
    """
    check_backend(backend, BACKENDS)
    on_cuda = any(t.is_cuda for t in tensors)
    if backend == "torch":
        return "torch"
    if backend == "auto":
        backend = "cuda" if on_cuda else "cpu"
    if backend == "cuda":
        if not _C.has_cuda():
            raise RuntimeError(
                "backend='cuda' was requested but pydisent was built without CUDA "
                "(rebuild with nvcc on PATH, or use backend='cpu'/'torch')"
            )
        if not on_cuda:
            raise ValueError("backend='cuda' needs CUDA tensors; move the inputs with .cuda() or use backend='cpu'")
        if _C.cuda_device_count() == 0:
            raise RuntimeError("backend='cuda' was requested but no CUDA device is usable")
        return "cuda"
    # backend == "cpu"
    if on_cuda:
        raise ValueError("backend='cpu' needs CPU tensors; got CUDA tensors (use backend='cuda' or 'auto')")
    return "cpu"


def ref(t: torch.Tensor) -> _C.TensorRef:
    """A :class:`pydisent._C.TensorRef` view of ``t``; the view holds a reference to ``t``."""
    try:
        dtype = _DTYPES[t.dtype]
    except KeyError:
        raise TypeError(f"unsupported dtype {t.dtype} for the compiled kernels") from None
    device = t.device.index if t.is_cuda else -1
    if t.is_cuda and device is None:
        device = torch.cuda.current_device()
    r = _C.TensorRef(t.data_ptr(), dtype, device, list(t.shape), list(t.stride()))
    r._owner = t  # keeps a temporary (e.g. ref(x + 1)) alive as long as the view
    return r


def stream_of(t: torch.Tensor) -> int:
    """The current CUDA stream of ``t``'s device as an integer handle (0 for CPU tensors)."""
    if not t.is_cuda:
        return 0
    return int(torch.cuda.current_stream(t.device).cuda_stream)


def build_info() -> dict:
    """What this installation was built with and can use (compiler, OpenMP threads, CUDA build and
    devices): the ``build`` section of :func:`pydisent.provenance`, which records the rest."""
    info = {
        "compiler": _C.compiler(),
        "openmp_threads": _C.omp_max_threads(),
        # CPU instruction-set level the kernels run (csrc/common/cpu.h; "generic" under PYDISENT_CPU_GENERIC=1)
        "cpu_variant": _C.cpu_variants()["selected"],
        "built_with_cuda": bool(_C.has_cuda()),
        "cuda_runtime": _C.cuda_runtime_version() or None,
        "cuda_devices": _C.cuda_device_count(),
        "torch_cuda_available": torch.cuda.is_available(),
    }
    if info["cuda_devices"]:
        info["cuda_device_names"] = [_C.cuda_device_name(i) for i in range(info["cuda_devices"])]
    return info
