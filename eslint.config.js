// Lint: typescript-eslint's recommended rules, plus the architecture rule that keeps dependencies
// pointing one way: cli -> engine -> concern modules -> idmap / common. A concern module may not
// import the engine or the CLI, and reaches other modules only through their index.ts.
import tseslint from 'typescript-eslint';

const CONCERNS = [
  'containers',
  'images',
  'registry',
  'content',
  'snapshots',
  'unpack',
  'idmap',
  'session',
  'network',
  'runtime',
  'state',
  'common',
];

const upward = (module) => ({
  files: [`src/${module}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['**/cli/**', '../cli/*'], message: `${module}/ must not depend on the CLI` },
          { group: ['**/engine/**', '../engine/*'], message: `${module}/ must not depend on the engine` },
          ...(module === 'idmap' || module === 'common'
            ? [
                {
                  group: CONCERNS.filter((m) => m !== module && m !== 'common').map((m) => `../${m}/*`),
                  message: `${module}/ is a leaf: it depends on nothing but common/`,
                },
              ]
            : []),
          {
            regex: `^\\.\\./(${CONCERNS.filter((m) => m !== module && m !== 'common').join('|')})/(?!index\\.js$)`,
            message: 'import another module through its index.ts',
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...CONCERNS.map(upward),
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../cli/*'], message: 'the engine must not depend on the CLI' }] },
      ],
    },
  },
);
