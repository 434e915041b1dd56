import {
  AnyPredictResponse,
  buildOpenApiDocument,
  describeSignatureDifferences,
  HealthResponse,
  ModelInfoResponse,
  ModelSignature,
  numericValueProblem,
  predictRequestFor,
  V2InferRequest,
} from './index';

const regression: ModelSignature = {
  task: 'regression',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 1] }],
  outputs: [{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }],
};
const classifier: ModelSignature = {
  task: 'classification',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ],
  classes: ['setosa', 'versicolor', 'virginica'],
};

describe('describeSignatureDifferences', () => {
  it('is empty for the same signature', () => {
    expect(describeSignatureDifferences(regression, structuredClone(regression))).toEqual([]);
    expect(describeSignatureDifferences(classifier, structuredClone(classifier))).toEqual([]);
  });

  it('names the column count of an input, as a client would notice it', () => {
    const wider = { ...regression, inputs: [{ name: 'features', datatype: 'FP32' as const, shape: [-1, 4] }] };
    expect(describeSignatureDifferences(regression, wider)).toEqual(["input 'features' takes 4 columns, live takes 1"]);
  });

  it('names a datatype change, a renamed input and a missing output', () => {
    const candidate: ModelSignature = {
      task: 'regression',
      inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 1] }],
      outputs: [{ name: 'predictions', datatype: 'FP64', shape: [-1, 1] }],
    };
    expect(describeSignatureDifferences(regression, candidate)).toEqual([
      "input 'features' is missing (live has it)",
      "input 'x' is new (live has no such input)",
      "output 'predictions' is FP64, live's is FP32",
    ]);
  });

  it('names a task change and different classes', () => {
    expect(describeSignatureDifferences(regression, classifier)).toEqual(
      expect.arrayContaining([
        'task differs: it is a classification model, live is a regression model',
        "input 'features' takes 4 columns, live takes 1",
      ]),
    );
    const relabelled = { ...classifier, classes: ['a', 'b', 'c'] };
    expect(describeSignatureDifferences(classifier, relabelled)).toEqual([
      'classes differ: ["a", "b", "c"] vs live\'s ["setosa", "versicolor", "virginica"]',
    ]);
    expect(describeSignatureDifferences(classifier, { ...classifier, classes: [0, 1, 2] })).toHaveLength(1);
  });

  it('names a change of shape that is not a column count, and of input order', () => {
    const columns = (names: string[]) => names.map((name) => ({ name, datatype: 'FP32' as const, shape: [-1, 1] }));
    const live: ModelSignature = { ...regression, inputs: columns(['age', 'income']) };
    expect(describeSignatureDifferences(live, { ...live, inputs: columns(['income', 'age']) })).toEqual([
      'inputs are in another order: ["income", "age"], live\'s are ["age", "income"]',
    ]);
    const flat = { ...regression, outputs: [{ name: 'predictions', datatype: 'FP32' as const, shape: [-1] }] };
    expect(describeSignatureDifferences(regression, flat)).toEqual(["output 'predictions' has shape [-1], live's has [-1, 1]"]);
  });
});

describe('signature schemas', () => {
  it('a classifier must name its classes, and a regression model must not', () => {
    expect(ModelSignature.safeParse(classifier).success).toBe(true);
    expect(ModelSignature.safeParse({ ...classifier, classes: undefined }).success).toBe(false);
    expect(ModelSignature.safeParse({ ...regression, classes: [0, 1] }).success).toBe(false);
  });

  it('/health may carry the signature beside the original keys', () => {
    const health = {
      status: 'ok',
      version: 'v1.0.0',
      color: 'blue',
      feature_count: 1,
      model_sha256: 'x',
      uptime_seconds: 1,
      signature: regression,
    };
    expect(HealthResponse.parse(health).signature).toEqual(regression);
  });

  it('/model is the signature plus name, version, sha256, platform and metadata', () => {
    const info = { name: 'iris', version: 'v1.0.0', sha256: 'x', platform: 'onnxruntime_onnx', ...classifier, metadata: {} };
    expect(ModelInfoResponse.parse(info)).toEqual(info);
  });

  it('each kind of /predict answer is one of AnyPredictResponse', () => {
    for (const answer of [
      { predictions: [1.5], model_version: 'v1' },
      { predictions: [[1, 2]], model_version: 'v1' },
      { predictions: ['setosa'], probabilities: [[0.9, 0.05, 0.05]], classes: ['setosa', 'versicolor', 'virginica'], model_version: 'v1' },
    ]) {
      expect(AnyPredictResponse.parse(answer)).toEqual(answer);
    }
  });

  it('the protocol example request parses', () => {
    const example = {
      id: '42',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
        { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] },
      ],
      outputs: [{ name: 'output0' }],
    };
    expect(V2InferRequest.parse(example)).toEqual(example);
  });
});

describe('numeric columns', () => {
  it.each([
    [1.5, 'INT64', 'must be a whole number for an INT64 column'],
    [2 ** 31, 'INT32', 'must be between -2147483648 and 2147483647 for an INT32 column'],
    [2 ** 60, 'INT64', /must be between .* for an INT64 column/],
    [1e39, 'FP32', /float32/],
  ] as const)('%s does not fit %s', (value, datatype, problem) => {
    expect(numericValueProblem(value, datatype)).toMatch(problem);
  });

  it.each([
    [1e39, 'FP64'],
    [-5, 'INT32'],
    [2 ** 53 - 1, 'INT64'],
    [0.25, 'FP32'],
  ] as const)('%s fits %s', (value, datatype) => {
    expect(numericValueProblem(value, datatype)).toBeUndefined();
  });

  it('the request schema names the row and column of a value that does not fit', () => {
    const schema = predictRequestFor({ featureCount: 2, columnTypes: ['FP64', 'INT64'] });
    expect(schema.safeParse({ features: [[0.5, 3]] }).success).toBe(true);
    const result = schema.safeParse({
      features: [
        [0.5, 3],
        [1, 2.5],
      ],
    });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['features', 1, 1], message: 'must be a whole number for an INT64 column' }),
    ]);
  });
});

describe('OpenAPI document of a served model', () => {
  const document = buildOpenApiDocument({
    modelVersion: 'v1.0.0',
    featureCount: 4,
    model: { name: 'iris', signature: classifier, answer: 'ClassificationPredictResponse' },
  });

  it('adds /model and the V2 routes under the model name, with an example request from the signature', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/model',
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/iris',
        '/v2/models/iris/ready',
        '/v2/models/iris/infer',
      ]),
    );
    const infer = (
      document.paths as unknown as Record<string, { post?: { requestBody: { content: Record<string, { example: unknown }> } } }>
    )['/v2/models/iris/infer'].post;
    expect(infer?.requestBody.content['application/json'].example).toEqual({
      inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }],
    });
    expect((document.paths['/predict'].post.responses['200'].content['application/json'].schema as { $ref: string }).$ref).toBe(
      '#/components/schemas/ClassificationPredictResponse',
    );
  });

  it('every $ref points at a component', () => {
    const refs = JSON.stringify(document).match(/#\/components\/schemas\/\w+/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(document.components.schemas).toHaveProperty(ref.split('/').pop() as string);
  });
});
