"""The EfficientNet-Lite0 port and the default architecture built on it."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from chromatize.models import create_model
from chromatize.models.efficientnet_lite import EfficientNetLite0, load_pretrained, pretrained_path
from chromatize.training.losses import build_loss

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EGYPTIAN_CAT, CAT_CLASSES = 285, range(281, 286)          # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian


def center_crop(path: Path, side: int = 224) -> torch.Tensor:
    img = Image.open(path).convert("RGB")
    scale = side / min(img.size)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.BICUBIC)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    rgb = np.asarray(img.crop((left, top, left + side, top + side)), np.float32) / 255
    return torch.from_numpy(rgb).permute(2, 0, 1)[None]                  # (1, 3, 224, 224) in [0, 1]


@pytest.fixture(scope="module")
def lite0():
    model = EfficientNetLite0()
    load_pretrained(model)
    return model.eval()


def test_the_port_classifies_the_bundled_cat_as_the_weights_do(lite0):
    with torch.no_grad():
        probs = lite0.classify(center_crop(EXAMPLES / "chelsea.jpg")).softmax(1)[0]
    assert int(probs.argmax()) == EGYPTIAN_CAT and probs[EGYPTIAN_CAT] > 0.5
    assert probs[list(CAT_CLASSES)].sum() > 0.85
    with torch.no_grad():                                         # the alp of the Picos de Europa
        assert int(lite0.classify(center_crop(EXAMPLES / "picos-de-europa.jpg")).argmax()) == 970


def test_the_port_is_wrong_without_tensorflow_same_padding(lite0):
    x = center_crop(EXAMPLES / "chelsea.jpg")
    with torch.no_grad():
        right = lite0.classify(x).softmax(1)[0, EGYPTIAN_CAT]
        for module in lite0.modules():
            if hasattr(module, "pads") and module.stride == (2, 2):
                module.pads, saved = (1, 1, 1, 1) if module.kernel_size[0] == 3 else (2, 2, 2, 2), module.pads
                module._saved = saved
        wrong = lite0.classify(x).softmax(1)[0, EGYPTIAN_CAT]
        for module in lite0.modules():
            if hasattr(module, "_saved"):
                module.pads = module._saved
    assert abs(float(right) - float(wrong)) > 0.02                 # the padding matters, and the port has it right


def test_weights_with_a_missing_or_extra_key_are_refused(tmp_path):
    state = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    state.pop("_bn0.running_var")
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="_bn0.running_var"):
        load_pretrained(EfficientNetLite0(), str(tmp_path / "broken.pth"))


def test_lite_unet_trains_its_decoder_faster_and_keeps_imagenet_statistics():
    model = create_model("lite_unet", decoder=[8, 8, 8, 8])
    model.start_from_imagenet()
    groups = model.param_groups(1e-3, encoder_lr=0.2)
    assert [g["lr"] for g in groups] == [pytest.approx(2e-4), 1e-3]
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in model.parameters())
    before = model.encoder._bn0.running_mean.clone()
    model.train()
    model(torch.rand(2, 1, 64, 64) * 2 - 1)
    assert torch.equal(model.encoder._bn0.running_mean, before)            # frozen: not re-estimated
    assert model.up4[0][1].training                                        # the decoder's BatchNorm learns


def test_lite_unet_stem_hints_start_at_zero_and_reach_the_decoder():
    torch.manual_seed(0)
    model = create_model("lite_unet", decoder=[8, 8, 8, 8]).eval()
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    points = torch.zeros(1, 3, 64, 64)
    points[0, :, 20:23, 20:23] = torch.tensor([0.4, -0.3, 1.0])[:, None, None]
    assert torch.equal(model.hint_stem.weight, torch.zeros_like(model.hint_stem.weight))
    with torch.no_grad():
        model.spread.no_hint.fill_(1e4)                                    # the hint spread off: it reaches far
        plain, hinted = model(l_norm), model(l_norm, points)
    assert not torch.allclose(plain, hinted)                              # through the decoder's hint inputs


def test_hint_logits_pull_the_bins_towards_a_point_and_train_the_heads_own_logits_too():
    torch.manual_seed(0)
    model = create_model("lite_unet", decoder=[8, 8, 8, 8])
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    points = torch.zeros(1, 3, 64, 64)
    points[0, :, 20:23, 20:23] = torch.tensor([0.4, -0.3, 1.0])[:, None, None]
    model.eval()
    with torch.no_grad():
        plain, hinted = model.to_ab(model(l_norm)), model.to_ab(model(l_norm, points))
    cell = (slice(None), slice(None), 5, 5)                                # the point's 1/4 cell
    target = torch.tensor([0.4, -0.3])
    assert (hinted[cell] - target).norm() < (plain[cell] - target).norm() - 0.1
    model.train()
    logits, own = model(l_norm, points)
    assert not torch.allclose(logits, own)
    assert torch.allclose(*model(l_norm))                                  # no point: no hint term
    loss = build_loss("mse", model)
    target_ab = torch.zeros(1, 2, 64, 64)
    assert loss((logits, own), target_ab).item() == pytest.approx(((loss(logits, target_ab) + loss(own, target_ab)) / 2).item())
    with pytest.raises(ValueError, match="classification"):
        create_model("lite_unet", head="regression")
