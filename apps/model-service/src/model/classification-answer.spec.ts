import { ClassificationPredictResponse } from '@mlbg/contract';
import { ClassificationAnswer, classifierFormat } from './classification-answer';
import { shortestFloat32 } from './float32';

const probabilities = Float32Array.from([0.7, 0.2, 0.1, 1e-30, 0.25, 0.75]);

describe('ClassificationAnswer', () => {
  it('writes the JSON that JSON.stringify writes for its fields, in the same key order', () => {
    const answer = new ClassificationAnswer(probabilities, ['a', 'c'], 2, classifierFormat(['a', 'b', 'c'], 'v1'));
    const fields = {
      predictions: ['a', 'c'],
      probabilities: [
        [0.7, 0.2, 0.1],
        [1e-30, 0.25, 0.75],
      ],
      classes: ['a', 'b', 'c'],
      model_version: 'v1',
    };
    expect(ClassificationPredictResponse.parse(answer)).toEqual(fields);
    expect(answer.json()).toBe(JSON.stringify(fields));
    expect(JSON.stringify(answer)).toBe(answer.json());
  });

  it('takes int64 labels as numbers, and without a label output the most probable class (the first of equal ones)', () => {
    const format = classifierFormat([10, 20, 30], 'v2');
    const labelled = new ClassificationAnswer(probabilities, BigInt64Array.from([30n, 20n]), 2, format);
    expect(labelled.predictions).toEqual([30, 20]);
    const ties = Float64Array.from([0.5, 0.5, 0, 0.1, 0.2, 0.7]);
    const unlabelled = new ClassificationAnswer(ties, undefined, 2, format);
    expect(unlabelled.predictions).toEqual([10, 30]);
    expect(unlabelled.json()).toBe(
      JSON.stringify({
        predictions: [10, 30],
        probabilities: [
          [0.5, 0.5, 0],
          [0.1, 0.2, 0.7],
        ],
        classes: [10, 20, 30],
        model_version: 'v2',
      }),
    );
  });

  it('prints float32 probabilities as their shortest decimal', () => {
    const answer = new ClassificationAnswer(Float32Array.from([1 / 3, 2 / 3]), undefined, 1, classifierFormat(['x', 'y'], 'v'));
    expect(answer.probabilities).toEqual([[shortestFloat32(Math.fround(1 / 3)), shortestFloat32(Math.fround(2 / 3))]]);
    expect(answer.json()).toContain('[[0.33333334,0.6666667]]');
  });

  it('refuses what JSON can not carry and outputs of the wrong size, saying what the model returned', () => {
    const format = classifierFormat(['a', 'b'], 'v');
    expect(() => new ClassificationAnswer(Float32Array.from([0.5, 0.5, NaN, 1]), undefined, 2, format)).toThrow(
      'the model returned NaN as a probability for row 1; JSON can not carry it',
    );
    expect(() => new ClassificationAnswer(Float32Array.from([0.5, 0.5]), undefined, 2, format)).toThrow(
      'the model returned probabilities for 1 rows for 2 rows',
    );
    expect(() => new ClassificationAnswer(Float32Array.from([0.5, 0.5]), ['a', 'b'], 1, format)).toThrow(
      'the model returned 2 labels for 1 rows',
    );
  });
});
