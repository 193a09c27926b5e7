"""The DARTS space (NAS-Bench-301 cells): the space (``space``), its networks (``model``), its table (``table``).

Only the space is imported here; the network builder (torch) and the table loader are imported
when the space first builds a network or loads its table.
"""

from archrank.spaces.darts.space import CELL_TYPES, NUM_NODES, OPS, Cell, DartsArch, DartsSpace, parse_darts

__all__ = ["CELL_TYPES", "NUM_NODES", "OPS", "Cell", "DartsArch", "DartsSpace", "parse_darts"]
