/** @jest-config-loader ts-node */
// Node 22.18+ would load this file natively, as an ES module that can not import './jest.config'
// without its extension: ts-node loads it (as it loads the unit config) when that fails.
import unit from './jest.config';

/** `nx run model-service:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs). */
export default { ...unit, displayName: 'model-service:integration', preset: '../../jest.integration.preset.js' };
