"""`chromatize serve`: the page on a local address, its outputs in a temporary folder that is
removed on exit, jobs through a bounded queue so memory stays bounded."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from ..images import set_max_megapixels
from ..models.card import figures, summary
from .jobs import Limits, Models, Workspace

log = logging.getLogger(__name__)


def serve(*, host: str = "127.0.0.1", port: int = 7860, model: str = "default", models_dir: str | None = None,
          limits: Limits = Limits(), concurrency: int = 2, queue_size: int = 32, block: bool = True):
    """Start the page; with block=False return (page, url, cleanup) for tests and scripts."""
    root = Path(tempfile.mkdtemp(prefix="chromatize-serve-"))
    os.environ["GRADIO_TEMP_DIR"] = str(root / "uploads")          # gradio's upload cache, removed with root
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")     # offline: no calls home
    try:
        from .page import build_page  # gradio reads GRADIO_TEMP_DIR on import
    except ImportError as err:
        shutil.rmtree(root, ignore_errors=True)
        raise ImportError(f"the web page needs gradio ({err}); install it with: pip install 'chromatize[web]'") \
            from None

    logging.getLogger("httpx").setLevel(logging.WARNING)             # one line per request otherwise
    set_max_megapixels(limits.max_megapixels)
    page = build_page(Models(model, models_dir), Workspace(root / "outputs"), limits, card=summary(model),
                      figures=figures(model))
    page.queue(default_concurrency_limit=concurrency, max_size=queue_size)

    def cleanup() -> None:
        page.close()
        shutil.rmtree(root, ignore_errors=True)

    try:
        _, url, _ = page.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                                max_file_size=f"{limits.max_upload_mb:g}mb", show_error=True,
                                allowed_paths=[str(root)])
        if not block:
            return page, url, cleanup
        print(f"chromatize: the page is at {url} (outputs in {root}, removed on exit); Ctrl-C stops it",
              flush=True)
        page.block_thread()
    except BaseException:
        cleanup()
        raise
    cleanup()
    return None
