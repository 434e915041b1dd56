/**
 * The latest prediction-diff report (`last-diff.json` in the state folder), written whole by
 * whatever made it: the contract's `LastDiff` (the dashboard's page reads it too).
 */
export { LastDiff } from '@mlbg/contract';
