"""chromatize: colorize black-and-white photos with CNNs trained on your own photos.

    import chromatize
    colorizer = chromatize.load("default")        # the model that ships in the package
    color = colorizer.colorize(pil_image)         # same size, RGB (RGBA when the input has alpha)
"""
from .inference import Colorizer, colorize_image, load
from .models import list_models
from .recipe import train_run as train

__all__ = ["Colorizer", "colorize_image", "list_models", "load", "train"]
__version__ = "0.1.0"
