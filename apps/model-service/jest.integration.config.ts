import unit from './jest.config';

/** `nx run model-service:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs). */
export default { ...unit, displayName: 'model-service:integration', preset: '../../jest.integration.preset.js' };
