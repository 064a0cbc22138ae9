import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".data/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-console": "error"
    }
  },
  {
    // Scripts and test fixtures are entrypoints that talk to a terminal.
    files: ["scripts/**", "**/test/**", "packages/db/src/bin/**", "vitest.config.ts"],
    rules: { "no-console": "off" }
  }
)
