"""chromatize: colorize black-and-white photos with CNNs trained on your own photos.

    import chromatize
    colorizer = chromatize.load("default")        # the model that ships in the package
    color = colorizer.colorize(pil_image)         # same size, RGB (RGBA when the input has alpha)
    chromatize.colorize_media("clip.mp4")          # a video or animated GIF -> clip_color.mp4
"""
from .inference import Colorizer, colorize_image, load
from .media.batch import MediaOptions, colorize_media
from .models import list_models
from .training.recipe import train_run as train
from .version import __version__

__all__ = ["Colorizer", "MediaOptions", "colorize_image", "colorize_media", "list_models", "load", "train"]
