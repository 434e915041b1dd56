/** @jest-config-loader ts-node */
// Node 22.18+ would load this file natively, as an ES module that can not import './jest.config'
// without its extension: ts-node loads it (as it loads the unit config) when that fails.
import unit from './jest.config';

/**
 * `nx run deploy:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs).
 * Two spec files at a time: the files mostly wait (on stacks starting, route moves, canary intervals,
 * nginx's timeouts), not on the CPU, and Jest's default on a 2-core machine (cores - 1) would run them
 * one after another. Each file starts its own stack on free loopback ports in its own temporary folder.
 */
export default { ...unit, displayName: 'deploy:integration', preset: '../../jest.integration.preset.js', maxWorkers: 2 };
