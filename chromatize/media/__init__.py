"""Media: frames.py (inference per frame) -> stabilize.py (temporal colour) -> animation.py (GIF,
WebP, APNG) and video.py (every container, audio kept); batch.py runs files and folders through
them. Imports inference and below."""
