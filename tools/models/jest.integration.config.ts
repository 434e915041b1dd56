import unit from './jest.config';

/** `nx run models:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs). */
export default { ...unit, displayName: 'models:integration', preset: '../../jest.integration.preset.js' };
