import { useEffect, useState } from 'preact/hooks';
import type { ActionEvent, HistoryEntry, LastDiff, Sample, Snapshot, StackView } from './wire';

/** The charts' window, as the server keeps it. */
export const WINDOW_MS = 15 * 60_000;

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface LiveState {
  readonly connection: Connection;
  readonly snapshot: Snapshot | null;
  /** Bumped at every new chart point, so the charts redraw. */
  readonly tick: number;
  readonly progress: readonly string[];
  readonly lastAction: ActionEvent | null;
}

/**
 * The server's event stream as page state. EventSource reconnects by itself when the server or
 * the network goes away (the server sends `retry:`); every reconnect gets a fresh snapshot.
 */
export function useLive(): LiveState {
  const [state, setState] = useState<LiveState>({ connection: 'connecting', snapshot: null, tick: 0, progress: [], lastAction: null });
  useEffect(() => {
    const source = new EventSource('api/events');
    const on = <T>(event: string, apply: (data: T, state: LiveState) => LiveState) =>
      source.addEventListener(event, (message) =>
        setState((state) => apply(JSON.parse((message as MessageEvent<string>).data) as T, state)),
      );
    on<Snapshot>('snapshot', (snapshot, state) => ({ ...state, connection: 'live', snapshot, tick: state.tick + 1 }));
    on<{ stack: StackView }>('stack', ({ stack }, state) =>
      state.snapshot ? { ...state, snapshot: { ...state.snapshot, stack } } : state,
    );
    on<{ entries: HistoryEntry[]; skippedLines: number[] }>('history', ({ entries, skippedLines }, state) =>
      state.snapshot ? { ...state, snapshot: { ...state.snapshot, history: { entries, skippedLines } } } : state,
    );
    on<{ diff: LastDiff | null }>('diff', ({ diff }, state) =>
      state.snapshot ? { ...state, snapshot: { ...state.snapshot, diff } } : state,
    );
    on<{ sample: Sample }>('sample', ({ sample }, state) => {
      if (!state.snapshot) return state;
      const samples = [...state.snapshot.samples, sample].filter((point) => point.t >= sample.t - WINDOW_MS);
      return { ...state, snapshot: { ...state.snapshot, samples }, tick: state.tick + 1 };
    });
    on<{ line: string }>('progress', ({ line }, state) => ({ ...state, progress: [...state.progress, line].slice(-50) }));
    on<ActionEvent>('action', (action, state) => ({
      ...state,
      lastAction: action,
      progress: action.phase === 'started' ? [] : state.progress,
    }));
    source.onerror = () => {
      // A closed source will not come back by itself: the server refused it (401: restarted with a new token).
      if (source.readyState === EventSource.CLOSED) {
        void fetch('api/state').then(
          (answer) => setState((state) => ({ ...state, connection: answer.status === 401 ? 'unauthorized' : 'reconnecting' })),
          () => setState((state) => ({ ...state, connection: 'reconnecting' })),
        );
      } else setState((state) => ({ ...state, connection: 'reconnecting' }));
    };
    return () => source.close();
  }, []);
  return state;
}

/** POSTs one action as the page's buttons do (the cookie carries the token; the browser adds the Origin). */
export async function runAction(
  name: string,
  body: Record<string, unknown>,
): Promise<{ status: number; outcome: { ok: boolean; error?: { code: string; message: string; hint: string } } }> {
  const answer = await fetch(`api/actions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: answer.status,
    outcome: (await answer.json()) as { ok: boolean; error?: { code: string; message: string; hint: string } },
  };
}
