import type { HttpAnswer } from '../effects/deps';
import type { ReplicaAccess } from '../gates/gate';

/**
 * A color's /metrics over all its replicas: their texts one after the other, so the counters of
 * every replica add up (the meters and the dashboard sum each sample they read). 200 when every
 * replica answered, else the first answer that was not 200.
 */
export async function replicasMetrics(replicas: readonly Pick<ReplicaAccess, 'request'>[]): Promise<HttpAnswer> {
  const answers = await Promise.all(
    replicas.map((item) => {
      if (!item.request) throw new Error('a replica without direct requests has no /metrics to read');
      return item.request({ method: 'GET', path: '/metrics' });
    }),
  );
  const failed = answers.find((answer) => answer.status !== 200);
  if (failed) return failed;
  return { status: 200, headers: answers[0]?.headers ?? {}, body: answers.map((answer) => answer.body).join('\n') };
}
