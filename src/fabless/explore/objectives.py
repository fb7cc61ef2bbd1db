"""What a search can optimise and what it can require, by name."""

from dataclasses import dataclass
from typing import Literal

Direction = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class Objective:
    name: str
    direction: Direction
    unit: str
    meaning: str


OBJECTIVES = {
    objective.name: objective
    for objective in (
        Objective("tokens_per_usd", "maximize", "tokens/USD",
                  "output tokens per TCO dollar, each model at the largest batch meeting the SLO"),
        Objective("tokens_per_joule", "maximize", "tokens/J", "output tokens per joule of modelled chip power"),
        Objective("usd_per_mtoken", "minimize", "USD/Mtoken", "TCO dollars per million output tokens"),
        Objective("die_area_mm2", "minimize", "mm2", "silicon area of all compute dies"),
        Objective("programme_usd", "minimize", "USD", "programme (NRE) cost: masks, people, IP, respin risk"),
    )
}

CONSTRAINTS = ("reticle", "tdp", "unit_cost", "programme", "chips", "tpot", "ttft")
"""Every constraint an evaluation scores, in the order Optuna receives them."""

UNSERVED_USD_PER_MTOKEN = 1e9
"""$/Mtoken given to a design that cannot serve the mix: finite, so samplers can rank it."""
