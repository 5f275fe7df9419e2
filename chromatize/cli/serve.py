"""`chromatize serve`: the web page (app/)."""
from __future__ import annotations

from pathlib import Path

from ._args import number


def add(sub) -> None:
    _add_serve(sub)


def _add_serve(sub) -> None:
    p = sub.add_parser("serve", help="the web page: upload, click to place colours, compare, download")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this computer only)")
    p.add_argument("--port", type=number(int, 1, 65535), default=7860)
    p.add_argument("--model", default="default", help="default, a model file or a run folder")
    p.add_argument("--models-dir", help="a folder of training run folders to offer as further models")
    p.add_argument("--max-upload-mb", type=number(float, 0.001), default=200.0)
    p.add_argument("--max-megapixels", type=number(float, 0.001), default=50.0)
    p.add_argument("--max-frames", type=number(int, 1), default=3000)
    p.add_argument("--concurrency", type=number(int, 1), default=2, help="jobs run at once; more wait in the queue")
    p.set_defaults(run=_run_serve)

def _run_serve(args) -> int:
    from ..app import Limits, serve

    if args.models_dir and not Path(args.models_dir).is_dir():
        raise FileNotFoundError(f"{args.models_dir}: no such folder")
    limits = Limits(max_upload_mb=args.max_upload_mb, max_megapixels=args.max_megapixels,
                    max_frames=args.max_frames)
    serve(host=args.host, port=args.port, model=args.model, models_dir=args.models_dir, limits=limits,
          concurrency=args.concurrency)
    return 0
