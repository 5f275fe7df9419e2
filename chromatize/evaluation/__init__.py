"""Evaluation: metrics.py (PSNR, colourfulness, ...), photos.py (`chromatize evaluate`: a model
against grey on a photo folder), clips.py (`chromatize evaluate-video`: flicker and colour on
clips). Imports inference and media."""
