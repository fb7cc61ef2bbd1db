"""RTL of the compute core in Amaranth: generated from a chip description, checked
against the golden functional simulator."""

from fabless.rtl.array import PeBlock, SystolicArray
from fabless.rtl.config import RtlConfig
from fabless.rtl.controller import Controller
from fabless.rtl.core import Core
from fabless.rtl.image import CoreImage, RtlRun
from fabless.rtl.pe import PeFault, ProcessingElement
from fabless.rtl.pysim import run_pysim
from fabless.rtl.scratchpad import Scratchpad
from fabless.rtl.skew import Skew
from fabless.rtl.sram import Sram

__all__ = [
    # hardware
    "Core",
    "Controller",
    "SystolicArray",
    "PeBlock",
    "ProcessingElement",
    "PeFault",
    "Scratchpad",
    "Skew",
    "Sram",
    # configuration and runs
    "RtlConfig",
    "CoreImage",
    "RtlRun",
    "run_pysim",
]
