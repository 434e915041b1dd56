/**
 * What a running canary writes beside the history while it runs (`canary.json` in the state
 * folder), so `deploy:status` in another terminal can show its step: the contract's `CanaryRun`.
 */
export { CanaryRun } from '@mlbg/contract';
