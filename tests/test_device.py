from __future__ import annotations

import pytest
import torch

from metavoice_app.core.device import DeviceError, describe_device, resolve_device


def test_auto_picks_cuda_only_when_available() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available() -> None:
    device = resolve_device("cpu")
    info = describe_device(device)
    assert info.kind == "cpu"
    assert "threads" in str(info)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_says_what_to_do() -> None:
    with pytest.raises(DeviceError, match="--device cpu"):
        resolve_device("cuda")


def test_unknown_device_is_refused() -> None:
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        resolve_device("tpu")
