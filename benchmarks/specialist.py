"""The seed's workflow: a user's small themed set trains a specialist that beats the default on
that theme. The theme is a file-name prefix of ../shared/data (default: GCompris' monument photos,
42 in splits/train.txt, 7 in tune, 9 in test); the specialist starts from the shipped model
(`chromatize train --init default`, which also takes its decode knobs) and trains on the theme's train photos, picking its epoch on
the theme's tune photos; both models are then scored on the theme's test photos and on the whole
test split (what the specialist gives up elsewhere).

    .venv/bin/python benchmarks/specialist.py [--theme gcompris-qt-data__monuments-] [--minutes 8]
        [--run runs/specialist]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.photos import evaluate, format_table, make_colorizer  # noqa: E402


def theme_paths(split: str, theme: str, data: Path) -> list[Path]:
    lines = (ROOT / "splits" / f"{split}.txt").read_text().split()
    return [data / rel for rel in lines if Path(rel).name.startswith(theme)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--theme", default="gcompris-qt-data__monuments-")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--run", default=str(ROOT / "runs" / "specialist"))
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    data = Path(args.data)
    parts = {split: theme_paths(split, args.theme, data) for split in ("train", "tune", "test")}
    print(f"theme {args.theme!r}: " + ", ".join(f"{len(v)} {k}" for k, v in parts.items()), flush=True)
    with tempfile.TemporaryDirectory() as pool:
        for split in ("train", "tune"):
            (Path(pool) / split).mkdir()
            for p in parts[split]:
                (Path(pool) / split / p.name).symlink_to(p.resolve())
        command = [str(ROOT / ".venv" / "bin" / "chromatize"), "train", f"{pool}/train", "--val-dir", f"{pool}/tune",
                   "--out", args.run, "--overwrite", "--init", "default", "--preset", "default", "--lr", "5e-4",
                   "--epochs", "100000", "--time-budget-min", str(args.minutes), "--sample-every", "0", "--quiet"]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    everything = [data / rel for rel in (ROOT / "splits" / "test.txt").read_text().split()]
    for title, paths in ((f"theme test photos ({len(parts['test'])})", parts["test"]),
                         (f"whole test split ({len(everything)})", everything)):
        summaries = {m if m != args.run else "specialist": evaluate(make_colorizer(m, size=args.size), paths,
                                                                    progress=False)[1]
                     for m in ("gray", "default", args.run)}
        print(title)
        print(format_table(summaries), flush=True)


if __name__ == "__main__":
    main()
