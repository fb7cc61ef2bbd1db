"""Place sub-components inline (for simulation) or as instances of shared Verilog modules.

A 128 x 128 array is 16,384 identical PEs. Elaborating each one separately makes Verilog
generation take minutes, so generation emits one module per distinct component (a PE,
a block of PEs) and instantiates it by name; Amaranth's Python simulator cannot run
instances, so simulation places the same components inline. Both paths build the
hardware from the same component classes.
"""

from collections.abc import Callable
from typing import Any

from amaranth import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In


class Placer:
    """Adds sub-components to modules; `shared=True` makes them named module instances."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        self.modules: dict[str, wiring.Component] = {}
        """Module name -> one component of that module, for every shared module placed."""
        self.macros: set[str] = set()
        """Names of instantiated modules whose Verilog is a hand-written model (SRAM macros)."""

    def place(self, m: Module, name: str, module: str, make: Callable[[], wiring.Component]) -> Any:
        """Add the component `make()` builds to `m` as `name`; returns what to wire its ports to.

        Every component placed under one `module` name must build identical hardware, so
        in shared mode `make` runs once per module name.
        """
        if not self.shared:
            component = make()
            m.submodules[name] = component
            return component
        if module not in self.modules:
            self.modules[module] = make()
        return self.instance(m, name, module, self.modules[module].signature, {})

    def instance(
        self, m: Module, name: str, module: str, signature: wiring.Signature, params: dict[str, int]
    ) -> Any:
        """Instantiate `module` with `signature`'s ports (plus clk, rst) and Verilog `params`."""
        iface = signature.create(path=(name,))
        ports: dict[str, object] = {"i_clk": ClockSignal(), "i_rst": ResetSignal()}
        for path, member, value in signature.flatten(iface):
            prefix = "i_" if member.flow == In else "o_"
            ports[prefix + "__".join(map(str, path))] = value
        ports.update({f"p_{key}": value for key, value in params.items()})
        m.submodules[name] = Instance(module, **ports)
        return iface
