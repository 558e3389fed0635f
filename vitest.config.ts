import { defineConfig } from "vitest/config";

// Front-end unit tests: pure logic only (no DOM, no WebGL), run in node.
export default defineConfig({
  test: {
    include: ["js/**/*.test.ts"],
    environment: "node",
  },
});
