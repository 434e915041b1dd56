"""PyTorch models exported with torch.onnx.export, as a user of PyTorch would export them.

Run with Debian's python3-torch (apt-get install -y python3-torch python3-onnx):

    /usr/bin/python3 tools/models/exporters/torch_models.py [OUT_DIR]

OUT_DIR defaults to models/fixtures. Each model gets a folder with model.onnx and expected.json:
the rows fed to it and what PyTorch itself computed for them (the exporter's own outputs), which the
service's tests compare with what it serves.
"""
import json
import os
import sys

import torch

from common import write_fixture

OPSET = 13
ROWS_4 = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3], [0.0, 0.0, 0.0, 0.0], [-1.5, 2.25, 10.0, -3.0]]
ROWS_3 = [[1.0, 2.0, 3.0], [-0.5, 0.0, 4.25], [10.0, -10.0, 0.125]]


class SoftmaxClassifier(torch.nn.Module):
    """4 features -> 3 class probabilities: the usual PyTorch classifier with a softmax head."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))

    def forward(self, features):
        return torch.nn.functional.softmax(self.body(features), dim=1)


def train_classifier():
    """A few hundred steps on three seeded clusters, so the classes really differ by row."""
    generator = torch.Generator().manual_seed(11)
    centers = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    x = torch.cat([center + 0.3 * torch.randn(60, 4, generator=generator) for center in centers])
    y = torch.arange(3).repeat_interleave(60)
    model = SoftmaxClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(torch.log(model(x) + 1e-9), y)
        loss.backward()
        optimizer.step()
    return model


def export(model, rows, input_name, output_name, out_dir, name, note):
    model.eval()
    x = torch.tensor(rows, dtype=torch.float32)
    path = os.path.join(out_dir, name, 'model.onnx')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(
        model, x, path, input_names=[input_name], output_names=[output_name],
        dynamic_axes={input_name: {0: 'batch'}, output_name: {0: 'batch'}}, opset_version=OPSET,
    )
    with torch.no_grad():
        outputs = {output_name: model(x).tolist()}
    write_fixture(out_dir, name, rows, outputs, made_by=f'tools/models/exporters/torch_models.py: torch.onnx.export, torch {torch.__version__}, opset {OPSET}', note=note)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else 'models/fixtures'
    torch.manual_seed(7)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    export(mlp, ROWS_4, 'features', 'predictions', out_dir, 'torch-mlp-regressor', 'regression MLP, 4 features, output [batch, 1]')
    torch.manual_seed(7)
    export(train_classifier(), ROWS_4, 'features', 'probabilities', out_dir, 'torch-softmax-classifier', 'softmax classifier, 4 features, output [batch, 3] probabilities, no labels or metadata')
    torch.manual_seed(7)
    export(torch.nn.Linear(3, 2), ROWS_3, 'features', 'targets', out_dir, 'torch-multi-target', 'two regression targets, 3 features, output [batch, 2]')


if __name__ == '__main__':
    main()
