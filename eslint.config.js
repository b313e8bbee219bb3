import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".cache/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read settings in src/config/config.ts only." }],
    },
  },
  {
    files: ["src/config/config.ts", "test/**", "bench/**", "vitest.config.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The browser tracker: a classic script served as it is.
    files: ["src/edge/tracker/pulse.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", location: "readonly", history: "readonly", navigator: "readonly", localStorage: "readonly", console: "readonly", URL: "readonly", fetch: "readonly" },
    },
  },
);
