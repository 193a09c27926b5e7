"""NAS-Bench-101: the space (``space``), its networks (``model``) and its bundled table (``table``).

Only the space is imported here; the network builder (torch) and the table loader are imported
when the space first builds a network or loads its table.
"""

from archrank.spaces.nb101.space import (
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    NUM_UNIQUE_CELLS,
    OPS,
    OUTPUT,
    NB101Arch,
    NB101Space,
    make_nb101,
    parse_nb101,
    prune,
)

__all__ = [
    "INPUT",
    "MAX_EDGES",
    "MAX_VERTICES",
    "NUM_UNIQUE_CELLS",
    "OPS",
    "OUTPUT",
    "NB101Arch",
    "NB101Space",
    "make_nb101",
    "parse_nb101",
    "prune",
]
