// Per-test overhead of the kit: minting a tenant's keys, and minting plus resetting that
// tenant on both products (two admin calls), over N tests against one real server.
// Run by hand: npm run bench (prints median and p95 in ms).
const { performance } = require("node:perf_hooks");
const { newTenant, startEmulator } = require("../dist");

const N = Number(process.env.N ?? 2000);

function quantiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95) };
}

(async () => {
  const server = await startEmulator({ cwd: require("node:os").tmpdir() });
  try {
    const mint = [], reset = [];
    for (let i = 0; i < 200; i++) await newTenant("warm", server.url).reset();
    for (let i = 0; i < N; i++) {
      let began = performance.now();
      const t = newTenant("bench", server.url);
      mint.push(performance.now() - began);
      began = performance.now();
      const fresh = newTenant("bench", server.url);
      await fresh.reset();
      reset.push(performance.now() - began);
      if (!t.theazoKey) throw new Error("no key");
    }
    const m = quantiles(mint), r = quantiles(reset);
    console.log(`${N} tests: mint keys median ${m.median.toFixed(4)} ms, p95 ${m.p95.toFixed(4)} ms; ` +
      `mint + reset of both products median ${r.median.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms`);
  } finally {
    await server.stop();
  }
})();
