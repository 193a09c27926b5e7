"""Write tests/fixtures/encodings_builtin.npz: every fixed encoding of a seeded sample of each built-in space.

Made once before the own-spaces redesign (from the code as it was then) so that the test suite can
prove the built-in spaces still give exactly the same encodings. Re-run only on purpose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import archrank as ar

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "encodings_builtin.npz"
SAMPLE = {"nb201": 200, "nb101": 200, "darts": 100}
ENCODINGS = ("adjacency_onehot", "path", "path_truncated", "categorical")


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, n in SAMPLE.items():
        space = ar.spaces.get(name)
        archs = space.sample(n, seed=123)
        arrays[f"{name}|archs"] = np.array([str(a) for a in archs])
        for enc in ENCODINGS:
            x = ar.encodings.encode(archs, enc)
            arrays[f"{name}|{enc}"] = x.astype(np.uint8) if enc != "categorical" else x.astype(np.int16)
            arrays[f"{name}|{enc}|names"] = np.array(ar.encodings.make_encoder(enc, space=name).feature_names())
        graphs = ar.encodings.encode(archs, "graph")
        arrays[f"{name}|graph|x"] = np.concatenate([g.x.numpy() for g in graphs]).astype(np.uint8)
        arrays[f"{name}|graph|edge_index"] = np.concatenate([g.edge_index.numpy() for g in graphs], axis=1)
        arrays[f"{name}|graph|num_nodes"] = np.array([g.num_nodes for g in graphs])
        arrays[f"{name}|graph|names"] = np.array(ar.encodings.make_encoder("graph", space=name).feature_names())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
