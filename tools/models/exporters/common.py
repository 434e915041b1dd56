"""What every fixture script writes beside its model.onnx: expected.json."""
import json
import os


def write_fixture(out_dir, name, rows, outputs, made_by, note):
    """rows: what /predict gets (columns in input order); outputs: what the exporter computed, by output name."""
    body = {'made_by': made_by, 'note': note, 'rows': rows, 'outputs': outputs}
    with open(os.path.join(out_dir, name, 'expected.json'), 'w') as file:
        json.dump(body, file, indent=2)
        file.write('\n')
