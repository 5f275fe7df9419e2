"""Time to colorize one 1024x768 photo on this machine (median of several runs).

    .venv/bin/python benchmarks/colorize_speed.py [--model default] [--runs 7] [--sizes 256 384 512] \
        [--points 10] [--photo examples/astronaut.jpg] [--no-skin]

Prints, for each model input size: the model forward alone, Colorizer.colorize on a decoded image
(L extraction -> model -> full-resolution merge), the same with N seeded colour points (what the
web page's hint tab waits for: the network, favouring and propagation; --points 0 leaves it out),
and the whole file path (decode JPEG -> colorize -> encode JPEG) inside one process; and once, the
`chromatize colorize` command as a user runs it (including Python start-up and imports). The photo
is examples/meadow.jpg in grey at 1024x768 (--photo another: a portrait shows the skin step's cost,
finding faces and decoding their skin; --no-skin leaves that step out).
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import median_seconds  # noqa: E402

from chromatize.color import normalize_l  # noqa: E402
from chromatize.images import open_image, save_atomic  # noqa: E402
from chromatize.inference import load  # noqa: E402


def photo_1024x768(folder: Path, src: Path = ROOT / "examples" / "meadow.jpg") -> Path:
    path = folder / "photo_1024x768.jpg"
    Image.open(src).convert("L").resize((1024, 768), Image.BICUBIC).save(path, quality=92)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 384, 512])
    parser.add_argument("--points", type=int, default=10, help="colour points for the hinted column (0: none)")
    parser.add_argument("--photo", default=str(ROOT / "examples" / "meadow.jpg"), help="the photo to time")
    parser.add_argument("--no-skin", dest="skin", action="store_false", help="no skin step on faces")
    args = parser.parse_args()
    rng = random.Random(0)
    points = [(rng.randrange(1024), rng.randrange(768), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
              for _ in range(args.points)]
    tmp = Path(tempfile.mkdtemp())
    photo = photo_1024x768(tmp, Path(args.photo))
    image = open_image(photo)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {args.model}, "
          f"1024x768 JPEG of {Path(args.photo).name}, skin step {'on' if args.skin else 'off'}, median of {args.runs} runs")
    hinted = f"{args.points} points ms"
    print(f"{'size':>5} {'model ms':>9} {'colorize ms':>12} {hinted:>14} {'file->file ms':>14}")
    for size in args.sizes:
        colorizer = load(args.model, size=size, device="cpu", skin=args.skin)
        h, w = colorizer.model_shape(768, 1024)
        x = normalize_l(torch.rand(1, 1, h, w) * 100).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            forward = median_seconds(lambda: colorizer.model.ab_norm(x), args.runs)
        colorize = median_seconds(lambda: colorizer.colorize(image), args.runs)
        with_points = median_seconds(lambda: colorizer.colorize(image, hints=points), args.runs) if points and \
            colorizer.takes_hints else float("nan")
        whole = median_seconds(lambda: save_atomic(colorizer.colorize(open_image(photo)), tmp / "out.jpg"),
                               args.runs)
        print(f"{size:>5} {forward * 1e3:>9.1f} {colorize * 1e3:>12.1f} {with_points * 1e3:>14.1f} "
              f"{whole * 1e3:>14.1f}")
    cli = [str(Path(sys.executable).with_name("chromatize")), "colorize", str(photo), "-o", str(tmp / "cli"),
           "--model", args.model, "-q"] + ([] if args.skin else ["--no-skin"])
    start = time.perf_counter()
    subprocess.run(cli, check=True, capture_output=True)
    print(f"`chromatize colorize` command, one 1024x768 photo, start-up included: "
          f"{(time.perf_counter() - start) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
