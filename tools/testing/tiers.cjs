// The test tiers, named by the spec file's suffix (one place: both Jest presets and the docs' table
// read it):
//   *.spec.ts           unit: in-process, no child process, no external binary (`nx run <project>:test`)
//   *.int.spec.ts       real parts together: stacks, nginx in front of services, Prometheus, nx
//   *.tool.spec.ts      a real external tool on real files: nginx -t, kubectl, promtool, wrk, python
//   *.process.spec.ts   one real program run as a child process: the built service, the supervisor
//   *.property.spec.ts  generated inputs (fast-check) through the real app
// The last four are the integration tier (`nx run <project>:integration`).
const INTEGRATION_SUFFIXES = ['int', 'tool', 'process', 'property'];

module.exports = {
  INTEGRATION_SUFFIXES,
  /** For Jest's testMatch (a glob). */
  INTEGRATION_GLOB: `**/*.@(${INTEGRATION_SUFFIXES.join('|')}).spec.ts`,
  /** For Jest's testPathIgnorePatterns (a regular expression on the path). */
  INTEGRATION_PATH: `\\.(${INTEGRATION_SUFFIXES.join('|')})\\.spec\\.ts$`,
};
