const unit = require('./jest.preset.js');
const { INTEGRATION_GLOB } = require('./tools/testing/tiers.cjs');

/** The integration tier of every project (`nx run <project>:integration`): the specs with a tier suffix (tools/testing/tiers.cjs). */
module.exports = {
  ...unit,
  testMatch: [INTEGRATION_GLOB],
  testPathIgnorePatterns: ['/node_modules/'],
};
