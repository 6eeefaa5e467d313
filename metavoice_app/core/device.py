"""Choosing the compute device (CPU or CUDA) for model work.

torch is imported inside the functions: it takes a second or two to load, and
``metavoice --help`` or the GUI's first paint should not wait for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import torch

DevicePreference = Literal["auto", "cpu", "cuda"]  # auto: CUDA when torch sees a GPU
DEVICE_CHOICES: tuple[DevicePreference, ...] = get_args(DevicePreference)


class DeviceError(RuntimeError):
    """The requested compute device cannot be used on this machine."""


@dataclass(frozen=True)
class DeviceInfo:
    """What the app runs its models on, in words a user understands."""

    kind: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.detail})" if self.detail else self.name


def resolve_device(preference: str = "auto") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda`` (or ``cuda:N``) into a usable ``torch.device``."""
    import torch

    choice = preference.strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda" or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was requested but no usable NVIDIA GPU was found "
                f"(this torch {torch.__version__} build "
                + ("has no CUDA support" if torch.version.cuda is None else "sees no GPU")
                + "). Use --device cpu or auto."
            )
        device = torch.device(choice)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"GPU {device.index} was requested but only {torch.cuda.device_count()} "
                "are present."
            )
        return device
    raise DeviceError(f"unknown device {preference!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def describe_device(device: torch.device) -> DeviceInfo:
    """A human description: GPU model and memory, or CPU thread count."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        memory_gib = props.total_memory / 2**30
        return DeviceInfo(
            "cuda",
            f"CUDA GPU {index}: {props.name}",
            f"{memory_gib:.0f} GiB, CUDA {torch.version.cuda}",
        )
    threads = torch.get_num_threads()
    cores = os.cpu_count() or threads
    return DeviceInfo("cpu", "CPU", f"{threads} threads on {cores} cores")
