export {};
/**
 * npm run bench: every benchmark prints its figures beside a baseline measured in the same
 * run (ratios, never a pass/fail on absolute time).
 */
const benches = ['render', 'ingest', 'redirect'];

for (const name of benches) {
  const mod = (await import(`./${name}.ts`)) as { run(): Promise<void> };
  console.log(`\n== ${name} ==`);
  await mod.run();
}
