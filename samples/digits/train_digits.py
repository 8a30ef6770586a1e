#!/usr/bin/env python3
"""Trains a small CNN on scikit-learn's handwritten digits and exports it.

Run with Debian's interpreter (python3-torch, python3-sklearn; no network):
    /usr/bin/python3 samples/digits/train_digits.py [OUT_DIR]

Writes into OUT_DIR (default: this folder):
  digits.onnx        float32 model, input 'input' [N, 1, 8, 8] (pixels / 16),
                     output 'logits' [N, 10]; the batch dimension is symbolic
  calibration/       100 training images, one float32 [1, 1, 8, 8] .npy each,
                     for `tmc quantize --calibration`
  digits_test.npy    the held-out test set: uint8 [360, 65], the 64 raw pixel
                     values (0..16, row-major 8x8) followed by the label

Deterministic: fixed seeds, single-threaded torch, a fixed train/test split.
Takes a few seconds on two cores.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
OPSET = 13
EPOCHS = 40
CALIBRATION_SAMPLES = 100


class DigitsNet(nn.Module):
    """Conv + BatchNorm + ReLU blocks, max pooling, two linear layers."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.b2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)  # 16 x 4 x 4
        x = F.relu(self.b2(self.c2(x)))  # 32 x 4 x 4
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    np.random.seed(SEED)

    digits = load_digits()  # UCI optdigits test part, shipped with scikit-learn
    pixels = digits.data.astype(np.uint8)  # [1797, 64], values 0..16
    labels = digits.target.astype(np.int64)
    px_tr, px_te, y_tr, y_te = train_test_split(pixels, labels, test_size=360, random_state=SEED,
                                                stratify=labels)
    x_tr = torch.from_numpy(px_tr.astype(np.float32).reshape(-1, 1, 8, 8) / 16.0)
    x_te = torch.from_numpy(px_te.astype(np.float32).reshape(-1, 1, 8, 8) / 16.0)
    t_tr, t_te = torch.from_numpy(y_tr), torch.from_numpy(y_te)

    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    gen = torch.Generator().manual_seed(SEED)
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            # Light augmentation: random one-pixel shifts.
            xb = x_tr[idx]
            dx, dy = torch.randint(-1, 2, (2,), generator=gen).tolist()
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(xb), t_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x_te).argmax(1) == t_te).float().mean().item() * 100
    print(f"train_digits: {EPOCHS} epochs in {time.time() - t0:.1f} s, float test accuracy {acc:.2f}%")

    onnx_path = os.path.join(out, "digits.onnx")
    torch.onnx.export(model, x_te[:1], onnx_path, opset_version=OPSET, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)

    cal = os.path.join(out, "calibration")
    os.makedirs(cal, exist_ok=True)
    for f in os.listdir(cal):
        if f.endswith(".npy"):
            os.remove(os.path.join(cal, f))
    rng = np.random.RandomState(SEED)
    for k, i in enumerate(sorted(rng.choice(len(x_tr), CALIBRATION_SAMPLES, replace=False))):
        np.save(os.path.join(cal, f"{k:03d}.npy"), x_tr[i:i + 1].numpy())

    test = np.concatenate([px_te, y_te.astype(np.uint8)[:, None]], axis=1)
    np.save(os.path.join(out, "digits_test.npy"), test)
    print(f"train_digits: wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {CALIBRATION_SAMPLES} "
          f"calibration samples, {len(test)} test samples")


if __name__ == "__main__":
    main()
