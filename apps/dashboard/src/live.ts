import { useEffect, useState } from 'preact/hooks';
import type {
  ActionEvent,
  ActionName,
  ActionOutcome,
  ActionRequest,
  DashboardEvent,
  DashboardEventName,
  DashboardSnapshot,
} from '@mlbg/contract';

/** The charts' window, as the server keeps it. */
export const WINDOW_MS = 15 * 60_000;

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface LiveState {
  readonly connection: Connection;
  readonly snapshot: DashboardSnapshot | null;
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
    // The server's events are the contract's (libs/contract: DashboardEvents), by their names.
    const on = <E extends DashboardEventName>(event: E, apply: (data: DashboardEvent<E>, state: LiveState) => LiveState) =>
      source.addEventListener(event, (message) =>
        setState((state) => apply(JSON.parse((message as MessageEvent<string>).data) as DashboardEvent<E>, state)),
      );
    on('snapshot', (snapshot, state) => ({ ...state, connection: 'live', snapshot, tick: state.tick + 1 }));
    on('stack', ({ stack }, state) => (state.snapshot ? { ...state, snapshot: { ...state.snapshot, stack } } : state));
    on('history', ({ entries, skippedLines }, state) =>
      state.snapshot ? { ...state, snapshot: { ...state.snapshot, history: { entries, skippedLines } } } : state,
    );
    on('diff', ({ diff }, state) => (state.snapshot ? { ...state, snapshot: { ...state.snapshot, diff } } : state));
    on('sample', ({ sample }, state) => {
      if (!state.snapshot) return state;
      const samples = [...state.snapshot.samples, sample].filter((point) => point.t >= sample.t - WINDOW_MS);
      return { ...state, snapshot: { ...state.snapshot, samples }, tick: state.tick + 1 };
    });
    on('progress', ({ line }, state) => ({ ...state, progress: [...state.progress, line].slice(-50) }));
    on('action', (action, state) => ({
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

/** One action with its body, as the server reads it (`POST /api/actions/<name>`). */
export type ActionCall = { [N in ActionName]: { readonly name: N; readonly body: ActionRequest<N> } }[ActionName];

/** POSTs one action as the page's buttons do (the cookie carries the token; the browser adds the Origin). */
export async function runAction(call: ActionCall): Promise<{ status: number; outcome: ActionOutcome }> {
  const answer = await fetch(`api/actions/${call.name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(call.body),
  });
  return { status: answer.status, outcome: (await answer.json()) as ActionOutcome };
}
