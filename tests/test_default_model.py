"""The model that ships in the package: present, loadable without pickle, and giving real colour."""
from pathlib import Path

import numpy as np
from PIL import Image

import chromatize
from chromatize.color import rgb_to_lab
from chromatize.models import DEFAULT_MODEL

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def lab_of(img: Image.Image) -> np.ndarray:
    import torch

    rgb = torch.from_numpy(np.asarray(img.convert("RGB"), np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(rgb)[0].numpy()                                   # (3, H, W)


def test_default_weights_ship_with_their_config_and_fit_its_architecture():
    from chromatize.models import load_model

    path = DEFAULT_MODEL
    assert path.exists() and path.with_suffix(".json").exists()
    assert path.stat().st_size < 32 * 2**20
    model = load_model(path)                     # every tensor of the architecture, and no other, in the file
    assert model.config["name"] == "ensemble"
    assert [m.config["name"] for m in model.members] == ["lite_unet", "lite_unet"]


def test_default_model_colours_an_unseen_meadow():
    grey = Image.open(EXAMPLES / "meadow.jpg")
    out = chromatize.colorize_image(grey)
    assert out.size == grey.size and out.mode == "RGB"
    lab = lab_of(out)
    chroma = np.hypot(lab[1], lab[2])
    assert chroma.mean() > 8                                            # not grey, not faint sepia
    ground = lab[:, lab.shape[1] * 2 // 3:]                             # the bottom third is grass
    hue = np.degrees(np.arctan2(ground[2].mean(), ground[1].mean()))
    assert 60 < hue < 180          # yellow to green, not a red, purple or blue cast (it comes out
                                   # yellow-olive, about 90 degrees: the data's known weakness)
    grey_l = lab_of(grey)[0]
    assert np.abs(lab[0] - grey_l).mean() < 1.0                        # the photo's own lightness is kept
