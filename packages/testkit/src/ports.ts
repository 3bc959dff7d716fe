import { createServer, type Server } from "node:net";

function listenOnZero(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Returns `count` distinct free TCP ports on `host`, chosen by the kernel (bind to port 0).
 * All sockets are held open until every port is known, so the ports are pairwise distinct.
 * (There is an unavoidable window between closing and the child binding the port; callers
 * retry on "address already in use".)
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnZero(host));
    return servers.map((s) => {
      const addr = s.address();
      if (addr === null || typeof addr === "string") throw new Error("unexpected server address");
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  const [port] = await freePorts(1, host);
  if (port === undefined) throw new Error("no free port");
  return port;
}

/** Parses "host:port,host:port" (whitespace tolerant) into a list of broker addresses. */
export function parseBrokers(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Starts something on freshly chosen ports, retrying (up to `retries` times) when the start
 * failed with `portClash` set — another process took the port between choosing and binding.
 */
export async function retryOnPortClash<T>(
  what: string,
  log: ((line: string) => void) | undefined,
  start: (attempt: number) => Promise<T>,
  retries = 3,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start(attempt);
    } catch (err) {
      if ((err as { portClash?: boolean }).portClash && attempt < retries) {
        log?.(`${what}: port clash, retrying with new ports`);
        continue;
      }
      throw err;
    }
  }
}
