import { EXAMPLE, expect, failedGates, test, V1 } from '../support/fixtures';

const CLASSIFIER = 'models/classifier/model.onnx';
const JSON_TYPE = { 'Content-Type': 'application/json' };

test.describe('classifiers, several outputs, typed inputs and the V2 protocol, through nginx', () => {
  test.beforeEach(async ({ stack }) => stack.reset());
  test.afterAll(async ({ stack }) => stack.reset());

  test('V2 answers on the live route as directly: health, metadata, inference, errors', async ({ request, stack }) => {
    expect((await request.get(`${stack.router}/v2/health/ready`)).status()).toBe(200);
    const metadata = await request.get(`${stack.router}/v2/models/model/versions/${V1}`);
    expect(await metadata.json()).toMatchObject({
      name: 'model',
      versions: [V1],
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 1] }],
    });
    const body = { id: 'e2e-1', inputs: [{ name: 'features', shape: [3, 1], datatype: 'FP32', data: [1, 2, 3] }] };
    const routed = await request.post(`${stack.router}/v2/models/model/infer`, { data: body, headers: JSON_TYPE });
    expect(routed.status()).toBe(200);
    const direct = await request.post(`${stack.color('blue')}/v2/models/model/infer`, { data: body, headers: JSON_TYPE });
    expect(await routed.json()).toEqual(await direct.json());
    expect(routed.headers()['x-color']).toBe('blue');
    // The /predict answer of the same rows: the same numbers.
    const predictions = (await (await request.post(`${stack.router}/predict`, { data: EXAMPLE })).json()).predictions;
    expect((await routed.json()).outputs[0].data).toEqual(predictions);

    for (const bad of [
      { ...body, inputs: [{ ...body.inputs[0], datatype: 'FP64' }] },
      { ...body, inputs: [{ ...body.inputs[0], shape: [4, 1] }] },
      { inputs: [{ name: 'nope', shape: [1, 1], datatype: 'FP32', data: [1] }] },
    ]) {
      const viaNginx = await request.post(`${stack.router}/v2/models/model/infer`, { data: bad, headers: JSON_TYPE });
      const viaColor = await request.post(`${stack.color('blue')}/v2/models/model/infer`, { data: bad, headers: JSON_TYPE });
      expect(viaNginx.status()).toBe(400);
      expect(await viaNginx.json()).toEqual(await viaColor.json());
      expect((await viaNginx.json()).error).toMatch(/input '(features|nope)'/);
    }
    expect((await request.post(`${stack.router}/v2/models/other/infer`, { data: body, headers: JSON_TYPE })).status()).toBe(404);
  });

  test('a released classifier serves /predict, /model and V2 on /preview/, and the switch refuses it, saying why', async ({
    request,
    stack,
  }) => {
    const release = await stack.run('release', `--model=${CLASSIFIER}`);
    expect(release.ok, release.error?.message).toBe(true);
    expect(release.result.color).toBe('green');

    const model = await (await request.get(`${stack.preview}/model`)).json();
    expect(model).toMatchObject({ name: 'iris-classifier', task: 'classification', classes: ['setosa', 'versicolor', 'virginica'] });
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.1, 5.6, 2.4],
    ];
    const predict = await request.post(`${stack.preview}/predict`, { data: { features: rows }, headers: JSON_TYPE });
    expect(predict.status()).toBe(200);
    expect(await predict.json()).toMatchObject({ predictions: ['setosa', 'virginica'], classes: ['setosa', 'versicolor', 'virginica'] });
    const infer = await request.post(`${stack.preview}/v2/models/iris-classifier/infer`, {
      data: { inputs: [{ name: 'features', shape: [2, 4], datatype: 'FP32', data: rows }] },
      headers: JSON_TYPE,
    });
    expect(infer.status()).toBe(200);
    expect((await infer.json()).outputs[0]).toEqual({ name: 'label', datatype: 'BYTES', shape: [2], data: ['setosa', 'virginica'] });
    const health = await (await request.get(`${stack.preview}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', feature_count: 4, signature: { task: 'classification' } });

    const refused = await stack.switchTo('green');
    expect(refused.ok).toBe(false);
    expect(refused.error?.message).toMatch(/NOT switched/);
    expect(refused.error?.code).toBe('PREFLIGHT_FAILED');
    expect(failedGates(stack)).toEqual(['signature']);
    expect((await (await request.get(`${stack.router}/health`)).json()).version).toBe(V1);
  });

  test('the switch refuses a classifier in place of a regression model by naming the signature differences', async ({ stack }) => {
    expect((await stack.run('release', `--model=${CLASSIFIER}`)).ok).toBe(true);
    const refused = await stack.switchTo('green');
    expect(refused.ok).toBe(false);
    expect(refused.error?.message).toContain("input 'features' takes 4 columns, live takes 1");
    expect(refused.error?.message).toContain('task differs');
  });

  const fixtures: [string, Record<string, unknown>, (body: Record<string, unknown>) => void][] = [
    [
      'torch-softmax-classifier',
      { features: [[5.1, 3.5, 1.4, 0.2]] },
      (body) => expect(body).toMatchObject({ classes: [0, 1, 2], predictions: [0] }),
    ],
    [
      'zipmap-classifier',
      { features: [[5.1, 3.5, 1.4, 0.2]] },
      (body) => expect(body).toMatchObject({ classes: ['setosa', 'versicolor', 'virginica'] }),
    ],
    ['torch-multi-target', { features: [[1, 2, 3]] }, (body) => expect((body['predictions'] as number[][])[0]).toHaveLength(2)],
    ['mixed-inputs', { features: [[35, 52000.5, 3]] }, (body) => expect(body['predictions']).toHaveLength(1)],
  ];
  for (const [fixture, payload, check] of fixtures) {
    test(`${fixture}, released with deploy:release, answers on /preview/`, async ({ request, stack }) => {
      const release = await stack.run('release', `--model=models/fixtures/${fixture}/model.onnx`);
      expect(release.ok, release.error?.message).toBe(true);
      const response = await request.post(`${stack.preview}/predict`, { data: payload, headers: JSON_TYPE });
      expect(response.status()).toBe(200);
      check(await response.json());
      const metadata = await (await request.get(`${stack.preview}/v2/models/model`)).json();
      expect(metadata.platform).toBe('onnxruntime_onnx');
    });
  }
});
