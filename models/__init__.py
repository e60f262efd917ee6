"""Architecture specs: frozen, hashable, JSON-serialisable, self-validating."""

from models.base import ArchitectureSpec, SpecModule, Tape, dense, spec_from_json
from models.densenet import DenseNet
from models.lzb import LZBNet
from models.reduced import ConnectionGraph
from models.resnet import HuangFFNet, HuangResNet, LittwinResNet
from models.vanilla import VanillaNet

__all__ = [
    "ArchitectureSpec",
    "ConnectionGraph",
    "DenseNet",
    "HuangFFNet",
    "HuangResNet",
    "LZBNet",
    "LittwinResNet",
    "SpecModule",
    "Tape",
    "VanillaNet",
    "dense",
    "spec_from_json",
]
