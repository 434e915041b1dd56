// Runs the suite's files in the order of their names (01-..., 02-...): each starts from the
// state the one before left (the stack up, live on blue, ...).
const Sequencer = require('@jest/test-sequencer').default;

module.exports = class ByName extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
};
