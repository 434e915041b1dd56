import type { CanarySignals } from '../commands/canary/canary';

/** SIGINT and SIGTERM ask a running canary to stop, SIGUSR2 (sent by `deploy:promote`) to promote; `dispose` removes the handlers. */
export function processSignals(progress: (line: string) => void): CanarySignals & { dispose(): void } {
  let stop = false;
  let promote = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (!stop) progress(`${signal}: stopping the canary after this tick`);
    stop = true;
  };
  const onPromote = () => {
    promote = true;
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGUSR2', onPromote);
  return {
    stopRequested: () => stop,
    promoteRequested: () => promote,
    dispose: () => {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      process.off('SIGUSR2', onPromote);
    },
  };
}
