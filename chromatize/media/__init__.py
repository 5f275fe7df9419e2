"""Media: frames.py (inference per frame) -> stabilize.py (temporal colour) -> animation.py (GIF,
WebP, APNG) and video.py (every container, audio kept; video_read.py, video_write.py and
video_parts.py, the resumable segments, under it); shots.py finds the cuts and keyframes.py plans
each frame's points and reference (keyframe hints, references per shot); shot_list.py is
`chromatize shots`; batch.py runs files and folders through them. Imports inference and below."""
