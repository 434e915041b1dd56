import unit from './jest.config';

/** `nx run bench:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs). */
export default { ...unit, displayName: 'bench:integration', preset: '../../jest.integration.preset.js' };
