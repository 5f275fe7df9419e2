"""Media: frames.py (inference per frame) -> stabilize.py (temporal colour) -> animation.py (GIF,
WebP, APNG) and video.py (every container, audio kept; video_read.py and video_write.py
under it); batch.py runs files and folders through
them. Imports inference and below."""
