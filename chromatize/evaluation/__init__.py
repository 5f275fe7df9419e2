"""Evaluation: metrics.py (PSNR, colourfulness, ...), photos.py (`chromatize evaluate`: models
against grey on a photo folder or list, with simulated user points (training/simulated_hints.py),
a reference or old-print inputs), clips.py (`chromatize evaluate-video`: flicker and colour on
clips). Imports inference, media and the hint simulator of training; nothing imports it but the
command line (tests/test_layers.py)."""
