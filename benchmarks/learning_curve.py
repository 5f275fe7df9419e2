"""What data buys: tune PSNR at the decode rule against the number of training images, per source group.

    # one run of the default recipe per training list, the same steps each (scripts/train_default.sh):
    TRAIN_LIST=splits/curve/quarter.txt bash scripts/train_default.sh runs/curve_quarter --epochs 10 --steps-per-epoch 42 --seed 1
    ... half.txt, old.txt (the 631 images of the previous training list still in train), then all of
    splits/train.txt, plain and with --group-weights
    # each scored on tune, all figures kept as JSON:
    .venv/bin/python benchmarks/decode_sweep.py splits/tune.txt --root ../shared/data --model runs/curve_quarter \
        --temperatures 0.5 0.6 0.7 --gains 0 0.04 --json runs/curve_quarter/tune.json
    # then the table and the plot:
    .venv/bin/python benchmarks/learning_curve.py quarter=157:runs/curve_quarter/tune.json ... --plot docs/learning_curve.png

Each point: LABEL=IMAGES:JSON. The table gives, at each run's picked decode, the mean PSNR gain
over grey on all tune photos and per group (general, objects, food, people), and the colourfulness
gap (delta_cf); the plot draws the gain per group against the training images (log scale).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GROUPS = ("general", "objects", "food", "people")


def read_point(spec: str) -> tuple[str, int, dict]:
    label, _, rest = spec.partition("=")
    images, _, path = rest.partition(":")
    data = json.loads(Path(path).read_text())
    chosen = data["summaries"][data["pick"]]
    grey = data["summaries"]["gray"]
    row = {"pick": data["pick"], "all": chosen["gain"], "delta_cf": chosen["delta_cf"], "psnr": chosen["psnr"]}
    for group in GROUPS:
        if group in chosen["groups"]:
            row[group] = chosen["groups"][group]["gain"]
            row[f"{group}_psnr"] = chosen["groups"][group]["psnr"]
            row[f"{group}_grey"] = grey["groups"][group]["psnr"]
    return label, int(images), row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("points", nargs="+", metavar="LABEL=IMAGES:JSON")
    parser.add_argument("--plot", help="write the curve as a PNG")
    parser.add_argument("--title", default="The default recipe at one step budget: what data buys")
    args = parser.parse_args()
    points = [read_point(s) for s in args.points]
    print(f"{'run':<16}{'images':>7}{'decode':>16}{'tune PSNR':>10}{'gain':>7}"
          + "".join(f"{g:>9}" for g in GROUPS) + f"{'delta_cf':>9}")
    for label, images, row in points:
        print(f"{label:<16}{images:>7}{row['pick']:>16}{row['psnr']:>10.2f}{row['all']:>+7.2f}"
              + "".join(f"{row.get(g, float('nan')):>+9.2f}" for g in GROUPS) + f"{row['delta_cf']:>9.2f}")
    if args.plot:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for group in ("all",) + GROUPS:
            xs = [images for _, images, row in points if group in row]
            ys = [row[group] for _, _, row in points if group in row]
            ax.plot(xs, ys, "o-", label=group, linewidth=2.5 if group == "all" else 1.2)
        for label, images, row in points:
            ax.annotate(label, (images, row["all"]), textcoords="offset points", xytext=(4, -12), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("training images")
        ax.set_ylabel("tune PSNR gain over grey (dB)")
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(args.title)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
