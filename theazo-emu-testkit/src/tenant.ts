/**
 * A fresh tenant per test: each product takes any test key as a tenant of its own, so a
 * test that mints its keys sees nothing another test wrote, with no reset between tests.
 */
import { Admin, JournalEntry, JournalFilters } from "./admin";
import { TheazoEmuError } from "./server";

/** The variable the kit's globalSetup sets for the test workers (and a CI step may set). */
export const URL_VARIABLE = "THEAZO_EMU_URL";

let counter = 0;

function workerLabel(): string {
  const worker = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? process.env.JEST_WORKER_ID ?? "0";
  return `w${worker}p${process.pid}`;
}

function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40);
}

/** A key for each product, unique to this worker process and call: `th_test_…`, `theo_sk_test_…`. */
export function mintKeys(label = "t"): { theazoKey: string; theoKey: string } {
  counter += 1;
  const name = `${workerLabel()}_${counter}_${slug(label) || "t"}`;
  return { theazoKey: `th_test_${name}`, theoKey: `theo_sk_test_${name}` };
}

/** The running emulator's root URL: THEAZO_EMU_URL, set by the kit's globalSetup. */
export function emulatorUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env[URL_VARIABLE];
  if (!url) {
    throw new TheazoEmuError(`${URL_VARIABLE} is not set: add the kit's globalSetup to your test config ` +
      "(vitest: globalSetup: ['theazo-emu-testkit/vitest']; jest: globalSetup: 'theazo-emu-testkit/jest/setup' " +
      "and globalTeardown: 'theazo-emu-testkit/jest/teardown'), or start `theazo-emu serve` and export its URL.");
  }
  return url.replace(/\/+$/, "");
}

export interface TestTenant {
  /** Root URL of the server; both SDKs take it as their baseUrl. */
  url: string;
  baseUrl: string;
  theoBaseUrl: string;
  theazoKey: string;
  theoKey: string;
  /** `Authorization` headers for each product. */
  headers: { Authorization: string };
  theoHeaders: { Authorization: string };
  admin: Admin;
  /** Forget what this tenant holds, on both products. */
  reset(): Promise<void>;
  /** This tenant's entries of the request journal (Theazo's and Theo's). */
  requests(filters?: JournalFilters): Promise<JournalEntry[]>;
}

/** A tenant of its own for one test (call it in the test, or in a beforeEach). */
export function newTenant(label?: string, url: string = emulatorUrl()): TestTenant {
  const { theazoKey, theoKey } = mintKeys(label);
  const admin = new Admin(url);
  return {
    url, baseUrl: url, theoBaseUrl: url, theazoKey, theoKey, admin,
    headers: { Authorization: `Bearer ${theazoKey}` },
    theoHeaders: { Authorization: `Bearer ${theoKey}` },
    async reset() {
      await admin.reset(theazoKey);
      await admin.reset(theoKey);
    },
    async requests(filters: JournalFilters = {}) {
      const [theazo, theo] = await Promise.all([admin.requests({ ...filters, key: theazoKey }),
        admin.requests({ ...filters, key: theoKey })]);
      return [...theazo, ...theo].sort((a, b) => a.seq - b.seq);
    },
  };
}
