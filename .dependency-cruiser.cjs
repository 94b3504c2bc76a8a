/**
 * Import rules: the layers point one way (docs/ARCHITECTURE.md, "Layers").
 *
 *   cli -> jobs | web -> pipeline -> transform | state | isp | vendor-db -> shared -> config -> isp-spec
 *
 * The simulator (src/sim) is a separate product part: it may use the lower layers but nothing of the
 * worker. `npm test` runs this check (`npm run lint:imports`); test/repo/import-rules.test.ts shows it
 * failing on an upward import.
 */
const LAYERS = {
  cli: '^src/(cli[.]ts|cli/)',
  jobs: '^jobs/',
  web: '^src/web/',
  pipeline: '^src/pipeline/',
  sim: '^src/sim/',
  transform: '^src/transform/',
  state: '^src/state/',
  isp: '^src/isp/',
  'vendor-db': '^src/vendor-db/',
  shared: '^src/(log|metrics|redact)[.]ts$',
  config: '^src/config/',
  'isp-spec': '^src/isp-spec/',
};

/** What each layer may import, besides itself. */
const MAY_IMPORT = {
  cli: ['jobs', 'web', 'pipeline', 'sim', 'transform', 'state', 'isp', 'vendor-db', 'shared', 'config', 'isp-spec'],
  jobs: ['pipeline', 'transform', 'state', 'isp', 'vendor-db', 'shared', 'config', 'isp-spec'],
  web: ['pipeline', 'state', 'shared', 'config', 'isp-spec'],
  pipeline: ['transform', 'state', 'isp', 'vendor-db', 'shared', 'config', 'isp-spec'],
  sim: ['transform', 'vendor-db', 'shared', 'config', 'isp-spec'],
  transform: ['shared', 'config', 'isp-spec'],
  state: ['shared', 'config', 'isp-spec'],
  isp: ['shared', 'config', 'isp-spec'],
  'vendor-db': ['shared', 'config', 'isp-spec'],
  shared: ['config', 'isp-spec'],
  config: ['isp-spec'],
  'isp-spec': [],
};

const forbidden = Object.entries(MAY_IMPORT).flatMap(([layer, allowed]) => {
  const others = Object.keys(LAYERS).filter((l) => l !== layer && !allowed.includes(l));
  if (others.length === 0) return [];
  return {
    name: `${layer}-imports-only-below`,
    comment: `${layer} may import ${allowed.join(', ') || 'nothing of src'}: not ${others.join(', ')}`,
    severity: 'error',
    from: { path: LAYERS[layer] },
    to: { path: others.map((l) => LAYERS[l]) },
  };
});

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      from: { path: '^(src|jobs|bin)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one room with two doors',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser yet: swc parses the sources.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
