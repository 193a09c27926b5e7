"""The networks of the built-in spaces, re-exported from their space packages (``archrank.spaces.<space>.model``).

``space.build_model(arch)`` is the way to get a space's network; this module keeps the builders
importable under one name.
"""

from archrank.spaces.darts.model import DartsCell, DartsNetwork, build_darts
from archrank.spaces.nb101.model import NB101Cell, NB101Network, build_nb101
from archrank.spaces.nb201.model import NB201Cell, NB201Network, build_nb201

__all__ = [
    "DartsCell",
    "DartsNetwork",
    "NB101Cell",
    "NB101Network",
    "NB201Cell",
    "NB201Network",
    "build_darts",
    "build_nb101",
    "build_nb201",
]
