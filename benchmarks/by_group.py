"""`chromatize evaluate` figures per source group (general, objects, food, people), from the
per_image.csv files its --out folder holds.

    .venv/bin/python benchmarks/by_group.py eval/test/default/per_image.csv [more per_image.csv ...]

Per file and group: photos, mean PSNR, the mean and median gain over grey, the shares better than
grey and more than 3 dB worse, the output's and the truth's mean colourfulness and their gap
(delta_cf), as `chromatize evaluate` gives them for all photos together.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.evaluation.photos import SOURCE_GROUPS, WORSE_DB, source_group  # noqa: E402


def summary(rows: list[dict]) -> dict:
    gains = [float(r["psnr"]) - float(r["psnr_gray"]) for r in rows]
    cf = statistics.fmean(float(r["colorfulness"]) for r in rows)
    cf_truth = statistics.fmean(float(r["colorfulness_gt"]) for r in rows)
    return {"photos": len(rows), "psnr": statistics.fmean(float(r["psnr"]) for r in rows),
            "gain": statistics.fmean(gains), "median": statistics.median(gains),
            "better": sum(g > 0 for g in gains) / len(gains), "worse": sum(g < -WORSE_DB for g in gains) / len(gains),
            "cf": cf, "cf_truth": cf_truth, "delta_cf": abs(cf - cf_truth)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", help="per_image.csv files of chromatize evaluate --out")
    args = parser.parse_args()
    print(f"{'file':<44}{'group':<9}{'n':>4}{'psnr':>7}{'gain':>7}{'median':>8}{'better':>8}{'<-3dB':>7}"
          f"{'colourf':>8}{'truth':>7}{'delta_cf':>9}")
    for name in args.files:
        with open(name) as fh:
            rows = list(csv.DictReader(fh))
        groups = {g: [r for r in rows if source_group(r["file"]) == g] for g in SOURCE_GROUPS}
        label = "/".join(Path(name).parts[-3:-1])[-43:]                 # e.g. test_new/new_default
        for group, members in [("all", rows)] + [(g, m) for g, m in groups.items() if m]:
            s = summary(members)
            print(f"{label:<44}{group:<9}{s['photos']:>4}{s['psnr']:>7.2f}{s['gain']:>+7.2f}{s['median']:>+8.2f}"
                  f"{s['better']:>8.1%}{s['worse']:>7.1%}{s['cf']:>8.2f}{s['cf_truth']:>7.2f}{s['delta_cf']:>9.2f}")


if __name__ == "__main__":
    main()
