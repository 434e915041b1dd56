import unit from './jest.config';

/** `nx run deploy:integration`: the specs with a tier suffix (.int, .tool, .process, .property: tools/testing/tiers.cjs). */
export default { ...unit, displayName: 'deploy:integration', preset: '../../jest.integration.preset.js' };
