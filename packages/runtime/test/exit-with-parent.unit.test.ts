import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./fixtures/idle-service.ts", import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function startService(parentPid: number | undefined): ChildProcess {
  const env = { ...process.env, WHITESLIP_PARENT_PID: parentPid === undefined ? "" : String(parentPid) };
  const child = spawn(process.execPath, ["--import", "tsx", fixture], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return child;
}

async function started(child: ChildProcess): Promise<void> {
  for await (const chunk of child.stdout!) if (String(chunk).includes("started")) return;
}

describe("a service started by a local supervisor", () => {
  it("stops by itself when the supervisor named in WHITESLIP_PARENT_PID dies", async () => {
    const supervisor = spawn("sleep", ["600"]);
    children.push(supervisor);
    const svc = startService(supervisor.pid);
    await started(svc);
    supervisor.kill("SIGKILL");
    const [code] = await once(svc, "exit");
    expect(code).toBe(0); // a graceful stop, as on SIGTERM
  }, 60_000);
});
