import { defineConfig } from "vitest/config";

export default defineConfig({ test: { globalSetup: ["theazo-emu-testkit/vitest"] } });
