import { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLASSIFIER_CLASSES, CLASSIFIER_DIR, ClassifierCard, classifierProbabilities, classifierTrainingSet } from './classifier';
import { CARD_FILE, MODEL_FILE, sha256 } from './model-card';
import { readWorkspaceFile } from './testing/predict-with-ort';

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.2, 2.9, 4.3, 1.3],
  [7.7, 3.0, 6.1, 2.3],
  [6.0, 2.9, 4.9, 1.7],
];
// onnxruntime computes the scores in float32, the card's closed form in float64 with the same weights.
const TOLERANCE = 1e-5;

describe('the shipped classifier example', () => {
  const bytes = readWorkspaceFile(`${CLASSIFIER_DIR}/${MODEL_FILE}`);
  const card = ClassifierCard.parse(JSON.parse(readWorkspaceFile(`${CLASSIFIER_DIR}/${CARD_FILE}`).toString('utf8')));
  let session: InferenceSession;
  beforeAll(async () => {
    session = await InferenceSession.create(bytes);
  });
  afterAll(() => session.release());

  const run = async (rows: number[][]) => {
    const outputs = await session.run({ features: new Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]) });
    return { labels: outputs['label'].data as string[], probabilities: Array.from(outputs['probabilities'].data as Float32Array) };
  };

  it('its card names the file, the classes and the metadata the service reads', () => {
    expect(card.model_sha256).toBe(sha256(bytes));
    expect(card.classes).toEqual([...CLASSIFIER_CLASSES]);
    expect(card.metadata).toMatchObject({ model_name: 'iris-classifier', model_version: 'v1.0.0', task: 'classification' });
  });

  it("onnxruntime's probabilities are the card's closed form, and the label is the most probable class", async () => {
    const { labels, probabilities } = await run(ROWS);
    ROWS.forEach((row, i) => {
      const expected = classifierProbabilities(card, row);
      expected.forEach((value, c) => expect(Math.abs(probabilities[i * 3 + c] - value)).toBeLessThan(TOLERANCE));
      expect(labels[i]).toBe(card.classes[expected.indexOf(Math.max(...expected))]);
    });
    expect(labels.slice(0, 3)).toEqual(['setosa', 'versicolor', 'virginica']);
  });

  it('tells its training classes apart (at least 90% right)', async () => {
    const { rows, classes } = classifierTrainingSet();
    const { labels } = await run(rows);
    const right = labels.filter((label, i) => label === CLASSIFIER_CLASSES[classes[i]]).length;
    expect(right / rows.length).toBeGreaterThan(0.9);
  });
});
