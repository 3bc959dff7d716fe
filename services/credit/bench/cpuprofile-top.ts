/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by component (gRPC, protobuf, MongoDB driver and BSON,
 * the service's own code, Node's network and stream internals, GC, idle) and the top functions by self time.
 * Usage: tsx bench/cpuprofile-top.ts <file.cpuprofile> [top=20]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: cpuprofile-top <file.cpuprofile> [top]");
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (const [i, id] of prof.samples.entries()) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));

function component(n: Node): string {
  const u = n.callFrame.url;
  const f = n.callFrame.functionName;
  if (f === "(idle)") return "idle";
  if (f === "(garbage collector)") return "GC";
  if (f === "(program)") return "V8/native (program)";
  if (u.includes("@grpc")) return "gRPC (grpc-js, http2 framing)";
  if (u.includes("@bufbuild")) return "protobuf (@bufbuild)";
  if (u.includes("/bson/")) return "BSON";
  if (u.includes("/mongodb/")) return "MongoDB driver";
  if (u.includes("services/credit/bench")) return "bench client loop";
  if (u.includes("services/credit/src")) return "credit service code";
  if (u.includes("packages/")) return "platform packages (grpc wrapper, store, runtime, telemetry)";
  if (u.includes("@opentelemetry")) return "OpenTelemetry";
  if (u.includes("zod")) return "zod";
  if (u.includes("pino")) return "logger";
  if (u.startsWith("node:") || u === "") return "Node internals (net, http2, streams, timers) and builtins";
  return "other dependencies";
}

let total = 0;
const comps = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  total += us;
  const c = component(n);
  comps.set(c, (comps.get(c) ?? 0) + us);
  const where = n.callFrame.url.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(/^file:\/\/.*\/(services|packages)\//, "$1/");
  const key = `${n.callFrame.functionName || "(anonymous)"} ${where}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const busy = total - (comps.get("idle") ?? 0);
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy`);
console.log("self time by component (% of busy):");
for (const [c, us] of [...comps].filter(([c]) => c !== "idle").sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${c}`);
console.log(`top ${topArg ?? 20} functions by self time (% of busy):`);
for (const [f, us] of [...fns].filter(([f]) => !f.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 20))) {
  console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${f}`);
}
