import { type History, type HistoryEntry, type HistoryInput, appendHistory, readHistory } from './history';

/**
 * Where a deployment keeps its history: `history.jsonl` in the state folder (local, Compose), a
 * ConfigMap on Kubernetes. One store per deployment, so everyone operating it sees one audit.
 */
export interface HistoryStore {
  /** For messages: the file, or the object that holds it. */
  readonly where: string;
  read(): Promise<History>;
  append(entry: HistoryInput): Promise<HistoryEntry>;
}

/** The history in a JSON-lines file. */
export function fileHistory(file: string): HistoryStore {
  return {
    where: file,
    read: async () => readHistory(file),
    append: async (entry) => appendHistory(file, entry),
  };
}
