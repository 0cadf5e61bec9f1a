// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs', 'libs/ocpp/src/generated/**'] },
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
    ignores: ['libs/testing/**', 'libs/messaging/**', 'libs/platform/**', 'libs/service-kit/**', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'No wall clock in domain code: time comes from events.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'No randomness in domain code.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'No wall clock in domain code: time comes from events.' },
        { selector: "CallExpression[callee.name='randomUUID']", message: 'Derived ids are name-based (UUID v5).' },
      ],
    },
  },
);
