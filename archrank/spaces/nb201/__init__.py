"""NAS-Bench-201: the space (``space``), its networks (``model``, ``stacked``) and its bundled table (``table``).

Only the space is imported here; the network builders (torch) and the table loader are imported
when the space first builds a network or loads its table.
"""

from archrank.spaces.nb201.space import EDGES, NUM_ARCHS, OPS, NB201Arch, NB201Space, nb201_unique_string, parse_nb201

__all__ = ["EDGES", "NUM_ARCHS", "OPS", "NB201Arch", "NB201Space", "nb201_unique_string", "parse_nb201"]
