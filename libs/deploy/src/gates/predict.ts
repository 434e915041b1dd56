import { judgePredict, sampleRows } from '../effects/service-client';
import { type Gate, failed, passed } from './gate';

/** One real POST /predict to the target: one finite prediction per row, from the version it reports. */
export const predictGate: Gate = {
  name: 'predict',
  async run({ to, colors, facts }) {
    const version = facts.target?.version;
    const rows = sampleRows(facts.target?.feature_count ?? 1);
    const expected = `200 with ${rows.length} finite predictions from ${version ?? 'the version /health reports'}`;
    const hint = `Try it yourself on the preview route (POST /preview/predict) and read ${to}'s log; release a working model to ${to}.`;
    let answer;
    try {
      answer = await colors.predict(to, JSON.stringify({ features: rows }));
    } catch (error) {
      return failed(this.name, `${to} POST /predict: no answer (${(error as Error).message}).`, expected, hint);
    }
    const result = judgePredict(answer, rows.length);
    if (result.kind !== 'ok') return failed(this.name, `${to} POST /predict ${result.problem}`, expected, hint);
    const { predictions, model_version } = result.response;
    if (version !== undefined && model_version !== version) {
      return failed(
        this.name,
        `${to} POST /predict gave ${predictions.length} prediction(s) from ${model_version} for ${rows.length} rows to ${version}.`,
        expected,
        hint,
      );
    }
    return passed(this.name, `${to} /predict: 200, ${rows.length} predictions from ${model_version}`, expected);
  },
};
