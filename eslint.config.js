// Lint: typescript-eslint's recommended rules, plus the architecture rule that keeps dependencies
// pointing one way: cli -> engine -> concern modules, and among the concern modules, layers. A
// module may import only modules of a lower layer (never one beside it or above it), reaches them
// only through their index.ts, and never imports the engine or the CLI.
import tseslint from 'typescript-eslint';

/**
 * The concern modules, lowest layer first. Moving a module up a layer is a design decision: say
 * why in the commit. docs/architecture.md draws the same picture.
 */
const LAYERS = [
  ['common'],
  // The id vocabulary (pure arithmetic, and the OCI form of a map) every module below the engine may speak.
  ['idmap'],
  // Leaves: each stands on common/ and idmap/ alone.
  ['state', 'content', 'unpack', 'session', 'network', 'runtime', 'monitor', 'cgroups', 'events'],
  // Records and stores built on the leaves.
  ['images', 'containers', 'snapshots'],
  // The distribution client speaks in images and content.
  ['registry'],
];

const CONCERNS = LAYERS.flat();
const layerOf = (module) => LAYERS.findIndex((layer) => layer.includes(module));

const layered = (module) => {
  const notBelow = CONCERNS.filter((m) => m !== module && layerOf(m) >= layerOf(module));
  const below = CONCERNS.filter((m) => layerOf(m) < layerOf(module) && m !== 'common');
  return {
    files: [`src/${module}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**', '../cli/*'], message: `${module}/ must not depend on the CLI` },
            { group: ['**/api/**', '../api/*'], message: `${module}/ must not depend on the API server` },
            { group: ['**/engine/**', '../engine/*'], message: `${module}/ must not depend on the engine` },
            ...(notBelow.length > 0
              ? [
                  {
                    group: notBelow.map((m) => `../${m}/*`),
                    message: `${module}/ may import only modules below its layer (eslint.config.js LAYERS)`,
                  },
                ]
              : []),
            ...(below.length > 0
              ? [
                  {
                    regex: `^\\.\\./(${below.join('|')})/(?!index\\.js$)`,
                    message: 'import another module through its index.ts',
                  },
                ]
              : []),
          ],
        },
      ],
    },
  };
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // CommonJS files (scripts/load-bundle.cjs, copied into dist/) load with require().
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  ...CONCERNS.map(layered),
  // The API server stands beside the CLI: it reaches the engine and the concern modules through
  // their index.ts, as the CLI does, and never the CLI (what both need belongs in the engine).
  {
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**', '../cli/*'], message: 'the API server must not depend on the CLI' },
            {
              regex: `^\\.\\./(engine|${CONCERNS.filter((m) => m !== 'common').join('|')})/(?!index\\.js$)`,
              message: 'the API server reaches the engine and modules only through their index.ts',
            },
          ],
        },
      ],
    },
  },
  // The engine's use cases sit in src/engine/ and one folder below (containers/, images/, system/:
  // groups of use cases, not the concern modules of the same names), so what leads out of the engine
  // depends on the depth.
  ...[
    { files: ['src/engine/*.ts'], up: '\\.\\./' },
    { files: ['src/engine/*/*.ts'], up: '\\.\\./\\.\\./' },
  ].map(({ files, up }) => ({
    files,
    // Tests may use a module's test fixtures (unpack's tar-fixture), which its index does not export.
    ignores: ['src/engine/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/*'], message: 'the engine must not depend on the CLI' },
            { group: ['**/api/*'], message: 'the engine must not depend on the API server' },
            {
              regex: `^${up}(${CONCERNS.filter((m) => m !== 'common').join('|')})/(?!index\\.js$)`,
              message: 'the engine reaches a module only through its index.ts',
            },
          ],
        },
      ],
    },
  })),
);
