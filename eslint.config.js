// Type-checked lint: floating promises and type-only imports are the mistakes that cost us most in async Kafka code.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tributary/', 'bench/results/', '**/*.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // Policy (dead-letter, retry, exit code) is decided by error code, so every throw in the product code
    // goes through the catalogue in runtime/errors.ts (issue 10). Tests and test kits may throw plain Errors.
    files: ['runtime/**/*.ts', 'connectors/**/*.ts', 'processors/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', 'connectors/clickhouse/testing/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Error']",
          message: 'Throw a TributaryError with a catalogue code (runtime/errors.ts), not a plain Error.',
        },
      ],
    },
  },
);
