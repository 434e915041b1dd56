import { type HistoryInput, HistoryEntry, parseHistory } from '../../history/history';
import type { HistoryStore } from '../../history/store';
import { DeployError } from '../../errors';
import { HISTORY_CONFIGMAP, HISTORY_KEY } from '../../render/kubernetes/kubernetes-names';
import type { KubeApi } from './kube-api';

/** A ConfigMap holds at most 1 MiB; the oldest lines go first, well before that. */
export const MAX_HISTORY_BYTES = 900_000;
/** Compare-and-swap attempts (each lost race is another command appending at the same moment). */
const MAX_RACES = 5;

/**
 * The history on Kubernetes: the same JSON lines as `history.jsonl`, in a ConfigMap, so everyone
 * operating the cluster sees one audit. Each append is a read and a replace with the
 * resourceVersion read, retried when another append won the race: no line is ever lost.
 */
export function configMapHistory(api: KubeApi): HistoryStore {
  const where = `ConfigMap ${api.namespace}/${HISTORY_CONFIGMAP}`;
  return {
    where,
    async read() {
      const configMap = await api.readConfigMap(HISTORY_CONFIGMAP);
      return parseHistory(configMap?.data[HISTORY_KEY] ?? '', where);
    },
    async append(entry: HistoryInput) {
      const parsed = HistoryEntry.parse(entry);
      for (let races = 0; ; races++) {
        const configMap = await api.readConfigMap(HISTORY_CONFIGMAP);
        const text = configMap?.data[HISTORY_KEY] ?? '';
        const next = keepWithin(`${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${JSON.stringify(parsed)}\n`, MAX_HISTORY_BYTES);
        try {
          if (configMap)
            await api.replaceConfigMap(HISTORY_CONFIGMAP, { ...configMap.data, [HISTORY_KEY]: next }, configMap.resourceVersion);
          else await api.createConfigMap(HISTORY_CONFIGMAP, { [HISTORY_KEY]: next });
          return parsed;
        } catch (error) {
          if (!(error instanceof DeployError && error.code === 'KUBE_CONFLICT') || races + 1 >= MAX_RACES) throw error;
        }
      }
    },
  };
}

/** Drops the oldest whole lines until the text fits. Pure. */
export function keepWithin(text: string, maxBytes: number): string {
  let kept = text;
  while (Buffer.byteLength(kept) > maxBytes) {
    const cut = kept.indexOf('\n');
    if (cut === -1 || cut === kept.length - 1) return kept;
    kept = kept.slice(cut + 1);
  }
  return kept;
}
