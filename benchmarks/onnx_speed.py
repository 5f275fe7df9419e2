"""PyTorch against onnxruntime in one run: the network forward at 256 px and a 1-megapixel photo
file to file (decode JPEG -> colorize -> encode JPEG), medians of interleaved runs.

    .venv/bin/python benchmarks/onnx_speed.py [--model default] [--runs 9] [--threads 0]

Both runtimes run the same Colorizer (the colour maths around the network is shared); the onnx
one runs the graph of `chromatize export MODEL out.onnx`, exported here into a temporary folder.
Rounds alternate between the runtimes, so the machine's drift falls on both alike.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chromatize.color import normalize_l  # noqa: E402
from chromatize.images import open_image, save_atomic  # noqa: E402
from chromatize.inference import Colorizer, load
from chromatize.models import resolve  # noqa: E402
from chromatize.models import load_model  # noqa: E402
from chromatize.models.onnx_io import OnnxNetwork, export_onnx  # noqa: E402


def photo_1mp(folder: Path) -> Path:
    path = folder / "photo_1152x864.jpg"
    Image.open(ROOT / "examples" / "meadow.jpg").convert("L").resize((1152, 864), Image.BICUBIC).save(path, quality=92)
    return path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0 = its default)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    photo = photo_1mp(tmp)
    source = resolve(args.model)
    graph = export_onnx(load_model(source), tmp / "model.onnx")
    runtimes = {"torch": load(source, device="cpu"),
                "onnxruntime": Colorizer(OnnxNetwork(graph, threads=args.threads), device="cpu")}
    h, w = runtimes["torch"].model_shape(256, 256)
    x = normalize_l(torch.rand(1, 1, h, w) * 100).contiguous(memory_format=torch.channels_last)
    times: dict[str, dict[str, list[float]]] = {name: {"forward": [], "file": []} for name in runtimes}
    for name, colorizer in runtimes.items():                         # warm-up
        with torch.no_grad():
            colorizer.model.ab_norm(x)
        colorizer.colorize(open_image(photo))
    for _ in range(args.runs):
        for name, colorizer in runtimes.items():
            with torch.no_grad():
                times[name]["forward"].append(timed(lambda: colorizer.model.ab_norm(x)))
            times[name]["file"].append(timed(lambda: save_atomic(colorizer.colorize(open_image(photo)),
                                                                 tmp / f"out_{name}.jpg")))
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), model {args.model}, "
          f"median of {args.runs} interleaved runs")
    print(f"{'runtime':<13}{'forward 256x256 ms':>20}{'1 MP file to file ms':>22}")
    for name, t in times.items():
        print(f"{name:<13}{statistics.median(t['forward']) * 1e3:>20.1f}{statistics.median(t['file']) * 1e3:>22.1f}")
    ratio = statistics.median(times["onnxruntime"]["file"]) / statistics.median(times["torch"]["file"])
    forward = statistics.median(times["onnxruntime"]["forward"]) / statistics.median(times["torch"]["forward"])
    print(f"onnxruntime / torch: forward {forward:.2f}x, file to file {ratio:.2f}x")


if __name__ == "__main__":
    main()
