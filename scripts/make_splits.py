"""Writes the fixed train / tune / test lists in splits/ from ../shared/data (run once; the lists
are committed, so every model and benchmark uses the same photos).

    python scripts/make_splits.py [--data ../shared/data] [--seed 8]

Photos already in a list keep it (so the test photos of earlier models stay in test); the
photos new to the data folder are split per stratum (source package, the file-name prefix before "__"; GCompris by its
resource bundle; the lomiri packages as one, the small Python-library packages as one): test gets
round(15 %) and tune round(12 %) of each stratum, at least one each where a stratum has 3 or
more photos. The new sources of rounds 4 and 5 (food, people) are strata like any package, so tune
and test get them in proportion. The object photos (cut-outs on white) go to train, except
round(12 %) of them in tune (seeded), so that tune can report the objects' group too: the test is
on photos. The photos bundled in examples/ (examples/HELD_OUT.txt) are in no list.
Paths are relative to the data folder (photos/NAME.jpg).
"""
from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST, TUNE = 0.15, 0.12


def stratum(name: str) -> str:
    package, _, stem = name.partition("__")
    if package.startswith("lomiri"):
        return "lomiri"
    if package.startswith("python"):
        return "python"
    if package == "gcompris-qt-data":
        return f"gcompris/{stem.split('-')[0]}"
    return package


def split(names: list[str], seed: int) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        groups[stratum(name)].append(name)
    lists: dict[str, list[str]] = {"train": [], "tune": [], "test": []}
    rng = random.Random(seed)
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        n = len(members)
        n_test = max(1, round(n * TEST)) if n >= 3 else 0
        n_tune = max(1, round(n * TUNE)) if n >= 3 else 0
        lists["test"] += members[:n_test]
        lists["tune"] += members[n_test:n_test + n_tune]
        lists["train"] += members[n_test + n_tune:]
    return lists


def previous_lists(folder: Path) -> dict[str, str]:
    """photos/NAME.jpg -> the list it is in today (train, tune or test), from the committed lists."""
    where = {}
    for key in ("train", "tune", "test"):
        path = folder / f"{key}.txt"
        for rel in path.read_text().split("\n") if path.exists() else []:
            if rel.startswith("photos/"):
                where[rel] = key
    return where


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    data = Path(args.data)
    held_out = set((ROOT / "examples" / "HELD_OUT.txt").read_text().split())
    photos = [p.name for p in sorted((data / "photos").glob("*.jpg")) if p.name not in held_out]
    out = ROOT / "splits"
    kept = previous_lists(out)
    lists = split([n for n in photos if f"photos/{n}" not in kept], args.seed)
    lists = {k: [f"photos/{n}" for n in v] for k, v in lists.items()}
    for rel, key in kept.items():
        if (data / rel).exists():
            lists[key].append(rel)
    objects = [f"objects/{p.name}" for p in sorted((data / "objects").glob("*.jpg"))]
    random.Random(args.seed).shuffle(objects)
    n_tune = round(len(objects) * TUNE)
    lists["tune"] += objects[:n_tune]
    lists["train"] += objects[n_tune:]
    out.mkdir(exist_ok=True)
    for key, names in lists.items():
        (out / f"{key}.txt").write_text("".join(f"{n}\n" for n in sorted(names)))
        print(f"{key}: {len(names)}")


if __name__ == "__main__":
    main()
