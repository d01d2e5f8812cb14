"""Small resolution-study inputs shared by the viz and widget tests of chapter 12's resolution figures."""
import torch


def samples(sizes=(14, 28, 42), modes=("resize", "pad"), k=4):
    """{(mode, size): {"images", "labels", "predictions"}} with k random images per entry (no pad below 28)."""
    g = torch.Generator().manual_seed(0)
    out = {}
    for mode in modes:
        for s in sizes:
            if mode == "pad" and s < 28:
                continue
            out[(mode, s)] = {"images": torch.rand(k, 1, s, s, generator=g), "labels": torch.arange(k),
                              "predictions": torch.tensor([0, 1, 0, 0][:k])}
    return out


def rows(samples):
    """Accuracy rows of two models for every (mode, size) of ``samples``."""
    return [{"model": m, "mode": mode, "size": s, "test_accuracy": 0.5 + 0.01 * s}
            for m in ("bicubic", "bilinear") for mode, s in samples]
