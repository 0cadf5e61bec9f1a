// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const glueLibraries = ['libs/testing/**', 'libs/messaging/**', 'libs/platform/**', 'libs/service-kit/**'];

const determinism = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'No wall clock in domain code: time comes from events.',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'No randomness in domain code.',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'No wall clock in domain code: time comes from events.',
  },
  { selector: "CallExpression[callee.name='randomUUID']", message: 'Derived ids are name-based (UUID v5).' },
];

// module level = a declaration of the program itself, exported or not
const moduleLevel = (declaration) => [`Program > ${declaration}`, `Program > ExportNamedDeclaration > ${declaration}`];
const noModuleState = [
  ...moduleLevel("VariableDeclaration[kind='let']"),
  ...moduleLevel("VariableDeclaration[kind='var']"),
]
  .map((selector) => ({
    selector,
    message:
      'No module-level mutable state in domain code: a variable here is shared by every caller (pass a cache object in instead).',
  }))
  .concat(
    ['Map', 'WeakMap'].flatMap((name) =>
      // a constant lookup table says so with its type (ReadonlyMap) and is allowed
      moduleLevel(
        `VariableDeclaration > VariableDeclarator:not([id.typeAnnotation.typeAnnotation.typeName.name='ReadonlyMap']) > NewExpression.init[callee.name='${name}']`,
      ).map((selector) => ({
        selector,
        message: `No module-level ${name} in domain code: a cache here is shared by every caller (let its owner create it and pass it in; a constant lookup table is typed ReadonlyMap).`,
      })),
    ),
  );

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'libs/ocpp/src/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'off',
      'no-console': 'off',
    },
  },
  {
    // Determinism (docs/architecture.md rule 2): domain libraries never read the clock or randomness.
    files: ['libs/**/*.ts'],
    ignores: [...glueLibraries, '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { 'no-restricted-syntax': ['error', ...determinism] },
  },
  {
    // One exact-number kernel: domain code takes decimals from libs/kernel (Dec, BigInt fixed point), never its own decimal.js.
    files: ['libs/**/*.ts'],
    ignores: [
      ...glueLibraries,
      'libs/kernel/**',
      'libs/money/**',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/spec-helpers.ts',
      '**/testing/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'decimal.js',
              message: "Use the kernel's exact numbers (Dec, fixed point, rationals) from @csms/kernel.",
            },
          ],
        },
      ],
    },
  },
  {
    // No module-level mutable state in the domain libraries: caches are objects their owner creates and passes in.
    files: ['libs/**/*.ts'],
    ignores: [...glueLibraries, '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { 'no-restricted-syntax': ['error', ...determinism, ...noModuleState] },
  },
);
