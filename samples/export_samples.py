#!/usr/bin/env python3
"""Exports the bundled float sample models with torch, with golden outputs.

Run with Debian's interpreter (it sees python3-torch):
    /usr/bin/python3 samples/export_samples.py [OUT_DIR]
Writes, for each sample NAME: NAME.onnx, NAME.input.npy, NAME.expected.npy.
Deterministic: fixed seeds, weights and inputs drawn from torch's generator.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 13


class CnnBn(nn.Module):
    """Small image CNN: conv + batchnorm + relu blocks, max/avg pooling, linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.b2 = nn.BatchNorm2d(16)
        self.c3 = nn.Conv2d(16, 16, 3, padding=1)
        self.b3 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        # BatchNorm after the activation stays a standalone BatchNormalization
        # node in the export (torch folds Conv+BN pairs on its own).
        x = self.b1(F.relu(self.c1(x)))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.b2(self.c2(x)))
        x = F.relu6(self.b3(self.c3(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.softmax(self.fc(x), dim=1)


class DsKws(nn.Module):
    """Depthwise-separable keyword-spotting net (DS-CNN style) on 49x10 MFCCs."""

    def __init__(self, ch=24, blocks=3, classes=12):
        super().__init__()
        self.stem = nn.Conv2d(1, ch, (10, 4), stride=(2, 2), padding=(5, 1))
        self.stem_bn = nn.BatchNorm2d(ch)
        layers = []
        for _ in range(blocks):
            layers += [nn.Conv2d(ch, ch, 3, padding=1, groups=ch), nn.BatchNorm2d(ch), nn.ReLU(),
                       nn.Conv2d(ch, ch, 1), nn.BatchNorm2d(ch), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(ch, classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.body(x)
        x = F.avg_pool2d(x, x.shape[2:]).flatten(1)
        return self.fc(x)


class Res(nn.Module):
    """ResNet-8-style residual net with a projection shortcut."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.bs = nn.BatchNorm2d(16)
        self.a1 = nn.Conv2d(16, 16, 3, padding=1)
        self.ab1 = nn.BatchNorm2d(16)
        self.a2 = nn.Conv2d(16, 16, 3, padding=1)
        self.ab2 = nn.BatchNorm2d(16)
        self.b1 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.bb1 = nn.BatchNorm2d(32)
        self.b2 = nn.Conv2d(32, 32, 3, padding=1)
        self.bb2 = nn.BatchNorm2d(32)
        self.proj = nn.Conv2d(16, 32, 1, stride=2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bs(self.stem(x)))
        y = F.relu(self.ab1(self.a1(x)))
        x = F.relu(x + self.ab2(self.a2(y)))
        y = F.relu(self.bb1(self.b1(x)))
        x = F.relu(self.proj(x) + self.bb2(self.b2(y)))
        x = torch.mean(x, dim=(2, 3))
        return self.fc(x)


class Mlp(nn.Module):
    """Anomaly-detection style autoencoder MLP with mixed activations."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(64, 32)
        self.l2 = nn.Linear(32, 8)
        self.l3 = nn.Linear(8, 32)
        self.l4 = nn.Linear(32, 64)

    def forward(self, x):
        x = F.relu(self.l1(x))
        x = torch.tanh(self.l2(x))
        x = F.gelu(self.l3(x))
        return torch.sigmoid(self.l4(x))


class SamePad(nn.Module):
    """TF-style "same" padding computed from the input shape at run time, as
    timm/efficientnet ports do: exports a Shape/Slice/Concat/ConstantOfShape/Cast
    chain that builds the Pad amounts (it must constant-fold)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2)
        self.c2 = nn.Conv2d(8, 8, 5, stride=1)

    @staticmethod
    def pad_same(x, k, s):
        ih, iw = x.shape[-2], x.shape[-1]
        ph = torch.clamp((torch.ceil(torch.as_tensor(ih) / s) - 1) * s + k - ih, min=0).to(torch.int64)
        pw = torch.clamp((torch.ceil(torch.as_tensor(iw) / s) - 1) * s + k - iw, min=0).to(torch.int64)
        return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])

    def forward(self, x):
        x = F.relu(self.c1(self.pad_same(x, 3, 2)))
        x = self.c2(self.pad_same(x, 5, 1))
        return torch.sigmoid(x)


SAMPLES = [
    ('cnn_bn', CnnBn, (1, 3, 32, 32)),
    ('ds_kws', DsKws, (1, 1, 49, 10)),
    ('resnet_small', Res, (1, 3, 32, 32)),
    ('mlp_ae', Mlp, (2, 64)),
    ('same_pad', SamePad, (1, 3, 17, 23)),
]


def randomize_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.num_features, generator=g) * 0.1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'models')
    os.makedirs(out, exist_ok=True)
    for name, cls, shape in SAMPLES:
        torch.manual_seed(1234)
        g = torch.Generator().manual_seed(42)
        m = cls().eval()
        randomize_bn(m, g)
        x = torch.randn(*shape, generator=g)
        with torch.no_grad():
            y = m(x)
        path = os.path.join(out, name + '.onnx')
        torch.onnx.export(m, (x,), path, opset_version=OPSET, input_names=['input'], output_names=['output'],
                          do_constant_folding=False)
        np.save(os.path.join(out, name + '.input.npy'), x.numpy().astype(np.float32))
        np.save(os.path.join(out, name + '.expected.npy'), y.numpy().astype(np.float32))
        print('exported', path)


if __name__ == '__main__':
    main()
