"""scikit-learn-style classifiers and a several-input model, built from ONNX (and ONNX-ML) operators
with Debian's python3-onnx, as skl2onnx lays them out: a label output plus probabilities, with and
without ZipMap (skl2onnx's default, a sequence of maps that onnxruntime-node can not return).

Run with Debian's python3-onnx (apt-get install -y python3-onnx):

    /usr/bin/python3 tools/models/exporters/onnx_ml_models.py [OUT_DIR]

python3-onnx 1.12 has no runtime (its reference evaluator came in 1.13), so the expected outputs are
computed here with numpy from each operator's definition in the ONNX-ML spec, in float32 as
onnxruntime computes them.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from common import write_fixture

IR_VERSION = 8
OPSETS = [helper.make_opsetid('', 13), helper.make_opsetid('ai.onnx.ml', 1)]
MADE_BY = f'tools/models/exporters/onnx_ml_models.py: onnx.helper, onnx {onnx.__version__}; outputs computed with numpy from the operator definitions'
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3], [5.9, 3.0, 5.1, 1.8], [0.0, 0.0, 0.0, 0.0]]
IRIS = ['setosa', 'versicolor', 'virginica']
# One row of coefficients per class (4 features); intercepts per class.
COEFFICIENTS = np.array([[0.42, 1.35, -2.1, -0.95], [0.5, -1.5, 0.3, -1.2], [-0.9, -0.2, 1.8, 2.4]], dtype=np.float32)
INTERCEPTS = np.array([0.26, 1.5, -1.76], dtype=np.float32)


def sequence_of_maps(name, key_type):
    """ZipMap's output type, seq(map(key, float)); onnx 1.12's helper has no make_map_type_proto."""
    value = onnx.TypeProto()
    value.sequence_type.elem_type.map_type.key_type = key_type
    value.sequence_type.elem_type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    return helper.make_value_info(name, value)


def features_input():
    return helper.make_tensor_value_info('features', TensorProto.FLOAT, ['N', 4])


def save(out_dir, name, graph, rows, outputs, note):
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name='mlbg-exporters', ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    onnx.save(model, os.path.join(out_dir, name, 'model.onnx'))
    write_fixture(out_dir, name, rows, outputs, made_by=MADE_BY, note=note)


def softmax(scores):
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def linear_classifier_node(labels_attribute, labels, label_output, probability_output):
    return helper.make_node(
        'LinearClassifier', ['features'], [label_output, probability_output], domain='ai.onnx.ml',
        coefficients=COEFFICIENTS.flatten().tolist(), intercepts=INTERCEPTS.tolist(), multi_class=0,
        post_transform='SOFTMAX', **{labels_attribute: labels},
    )


def linear_classifier(out_dir):
    """Int64 labels plus a probability tensor, no ZipMap (skl2onnx with options={'zipmap': False})."""
    node = linear_classifier_node('classlabels_ints', [0, 1, 2], 'output_label', 'output_probability')
    graph = helper.make_graph([node], 'linear_classifier', [features_input()], [
        helper.make_tensor_value_info('output_label', TensorProto.INT64, ['N']),
        helper.make_tensor_value_info('output_probability', TensorProto.FLOAT, ['N', 3]),
    ])
    x = np.array(ROWS, dtype=np.float32)
    probabilities = softmax(x @ COEFFICIENTS.T + INTERCEPTS)
    outputs = {'output_label': probabilities.argmax(axis=1).tolist(), 'output_probability': probabilities.tolist()}
    save(out_dir, 'linear-classifier', graph, ROWS, outputs, 'LinearClassifier, int64 labels [N] and probabilities [N, 3], no ZipMap')


def zipmap_classifier(out_dir):
    """String labels and probabilities through ZipMap, as skl2onnx exports a LogisticRegression by default."""
    graph = helper.make_graph([
        linear_classifier_node('classlabels_strings', IRIS, 'output_label', 'probability_tensor'),
        helper.make_node('ZipMap', ['probability_tensor'], ['output_probability'], domain='ai.onnx.ml', classlabels_strings=IRIS),
    ], 'zipmap_classifier', [features_input()], [
        helper.make_tensor_value_info('output_label', TensorProto.STRING, ['N']),
        sequence_of_maps('output_probability', TensorProto.STRING),
    ])
    x = np.array(ROWS, dtype=np.float32)
    probabilities = softmax(x @ COEFFICIENTS.T + INTERCEPTS)
    outputs = {
        'output_label': [IRIS[i] for i in probabilities.argmax(axis=1)],
        # What ZipMap returns: one {label: probability} map per row.
        'output_probability': [dict(zip(IRIS, row)) for row in probabilities.tolist()],
    }
    save(out_dir, 'zipmap-classifier', graph, ROWS, outputs, 'LinearClassifier with string labels, probabilities through ZipMap (skl2onnx default)')


# One tree: petal length <= 2.45 -> class 10; else petal width <= 1.75 -> mostly 20, else mostly 30.
TREE = {
    'nodes_treeids': [0, 0, 0, 0, 0], 'nodes_nodeids': [0, 1, 2, 3, 4], 'nodes_featureids': [2, 0, 3, 0, 0],
    'nodes_values': [2.45, 0.0, 1.75, 0.0, 0.0], 'nodes_modes': ['BRANCH_LEQ', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'],
    'nodes_truenodeids': [1, 0, 3, 0, 0], 'nodes_falsenodeids': [2, 0, 4, 0, 0],
}
LEAF_WEIGHTS = {1: [1.0, 0.0, 0.0], 3: [0.0, 0.9, 0.1], 4: [0.0, 0.05, 0.95]}
TREE_LABELS = [10, 20, 30]


def tree_classifier(out_dir):
    """TreeEnsembleClassifier with int64 labels and ZipMap, as skl2onnx exports a DecisionTreeClassifier."""
    class_nodeids, class_ids, class_weights = [], [], []
    for leaf, weights in LEAF_WEIGHTS.items():
        for class_id, weight in enumerate(weights):
            class_nodeids.append(leaf)
            class_ids.append(class_id)
            class_weights.append(weight)
    tree = helper.make_node(
        'TreeEnsembleClassifier', ['features'], ['output_label', 'probability_tensor'], domain='ai.onnx.ml',
        class_treeids=[0] * len(class_ids), class_nodeids=class_nodeids, class_ids=class_ids, class_weights=class_weights,
        classlabels_int64s=TREE_LABELS, post_transform='NONE', **TREE,
    )
    zipmap = helper.make_node('ZipMap', ['probability_tensor'], ['output_probability'], domain='ai.onnx.ml', classlabels_int64s=TREE_LABELS)
    graph = helper.make_graph([tree, zipmap], 'tree_classifier', [features_input()], [
        helper.make_tensor_value_info('output_label', TensorProto.INT64, ['N']),
        sequence_of_maps('output_probability', TensorProto.INT64),
    ])
    x = np.array(ROWS, dtype=np.float32)
    thresholds = np.array(TREE['nodes_values'], dtype=np.float32)
    probabilities = []
    for row in x:
        node = 0
        while TREE['nodes_modes'][node] != 'LEAF':
            feature = TREE['nodes_featureids'][node]
            node = TREE['nodes_truenodeids'][node] if row[feature] <= thresholds[node] else TREE['nodes_falsenodeids'][node]
        probabilities.append(np.array(LEAF_WEIGHTS[node], dtype=np.float32))
    labels = [TREE_LABELS[int(np.argmax(p))] for p in probabilities]
    outputs = {'output_label': labels, 'output_probability': [{str(k): float(v) for k, v in zip(TREE_LABELS, p)} for p in probabilities]}
    save(out_dir, 'tree-classifier', graph, ROWS, outputs, 'TreeEnsembleClassifier, int64 labels 10/20/30, probabilities through ZipMap')


MIXED_WEIGHTS = np.array([[0.5], [0.001], [-2.0]], dtype=np.float32)
MIXED_BIAS = np.array([1.25], dtype=np.float32)
MIXED_ROWS = [[35, 52000.5, 3], [62, 18000.25, 0], [18, 0.0, 12], [-4, 1e10, -7]]


def mixed_inputs(out_dir):
    """Three named inputs, one column each, of three types (INT64, FP64, INT32): a tabular model with typed columns."""
    inputs = [('age', TensorProto.INT64), ('income', TensorProto.DOUBLE), ('visits', TensorProto.INT32)]
    nodes = [helper.make_node('Cast', [name], [f'{name}_float'], to=TensorProto.FLOAT) for name, _ in inputs]
    nodes += [
        helper.make_node('Concat', [f'{name}_float' for name, _ in inputs], ['columns'], axis=1),
        helper.make_node('MatMul', ['columns', 'weights'], ['linear']),
        helper.make_node('Add', ['linear', 'bias'], ['predictions']),
    ]
    graph = helper.make_graph(
        nodes, 'mixed_inputs',
        [helper.make_tensor_value_info(name, elem, ['N', 1]) for name, elem in inputs],
        [helper.make_tensor_value_info('predictions', TensorProto.FLOAT, ['N', 1])],
        initializer=[
            helper.make_tensor('weights', TensorProto.FLOAT, [3, 1], MIXED_WEIGHTS.flatten().tolist()),
            helper.make_tensor('bias', TensorProto.FLOAT, [1], MIXED_BIAS.tolist()),
        ],
    )
    columns = np.array(MIXED_ROWS, dtype=np.float64).astype(np.float32)
    outputs = {'predictions': (columns @ MIXED_WEIGHTS + MIXED_BIAS).tolist()}
    save(out_dir, 'mixed-inputs', graph, MIXED_ROWS, outputs, 'inputs age INT64 [N, 1], income FP64 [N, 1], visits INT32 [N, 1]; output [N, 1]')


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else 'models/fixtures'
    linear_classifier(out_dir)
    zipmap_classifier(out_dir)
    tree_classifier(out_dir)
    mixed_inputs(out_dir)


if __name__ == '__main__':
    main()
