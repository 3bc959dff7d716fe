/** What the credit benchmarks share: the database process's CPU from /proc, and a closed-loop driver of calls. */
import { readFileSync } from "node:fs";

/** CPU seconds (user + system) of a process from /proc, or null where there is none. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** What `drive` measured: approvals (calls × per call) per second, per-call latency quantiles, CPU per approval. */
export interface Driven {
  perSecond: number;
  p50: number;
  p99: number;
  dbUs: number | null;
  nodeUs: number;
}

/**
 * Runs `workers` closed loops of `call` for `seconds`, each call counting `perCall` approvals, and measures them,
 * with the CPU that the database process `dbPid` and this process spent per approval.
 */
export async function drive(seconds: number, perCall: number, workers: number, dbPid: number | undefined, call: (w: number, i: number) => Promise<void>): Promise<Driven> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu0 = processCpuSeconds(dbPid);
  const node0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        await call(w, i);
        lat.push(performance.now() - t);
      }
    }),
  );
  const el = (performance.now() - start) / 1000;
  const cpu1 = processCpuSeconds(dbPid);
  const node = process.cpuUsage(node0);
  const n = Math.max(1, lat.length * perCall);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return {
    perSecond: n / el,
    p50: q(0.5),
    p99: q(0.99),
    dbUs: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) * 1e6) / n : null,
    nodeUs: (node.user + node.system) / n,
  };
}

/** `name   1234 approvals/s  per call p50 1.2 / p99 3.4 ms (2 in flight, 16 per call)  CPU per approval: db 120 µs, node 80 µs`. */
export function describeDriven(name: string, d: Driven, workers: number, perCall: number, width = 24): string {
  return (
    `${name.padEnd(width)} ${d.perSecond.toFixed(0).padStart(6)} approvals/s  per call p50 ${d.p50.toFixed(1)} / p99 ${d.p99.toFixed(1)} ms (${workers} in flight, ${perCall} per call)` +
    `  CPU per approval: db ${d.dbUs === null ? "n/a" : d.dbUs.toFixed(0)} µs, node ${d.nodeUs.toFixed(0)} µs`
  );
}
