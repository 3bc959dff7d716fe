/**
 * deploy/ as the platform team gets it: every kustomization renders with
 * kustomize and every object is valid for Kubernetes (strict schemas of 1.30
 * and 1.37); ports and probes agree with the services' configuration; every
 * service has its Deployment, Service, HPA, PDB and NetworkPolicy; the
 * end-of-day CronJob calls the ops CLI; the compose file is valid and
 * consistent; the Dockerfile lints clean and its entrypoint starts each service.
 * The tools are built/fetched into the Whiteslip cache on the first run.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ensureLocalPki } from "@whiteslip/identity";
import { beforeAll, describe, expect, inject, it } from "vitest";
import {
  type ComposeFile,
  checkCompose,
  checkEndOfDayCronJob,
  checkIdentities,
  checkPlatform,
  type DeploymentSpec,
  type Manifest,
  platformConfig,
  PII_SECRET_KEYS,
  PII_SECRET_NAME,
  SERVICE_SECRET_KEYS,
  serviceSecretName,
  SERVICES,
} from "../src/checks";
import {
  KUBERNETES_VERSIONS,
  KUSTOMIZATIONS,
  knownEnvNames,
  kustomizeBuild,
  lintDockerfile,
  type SchemaError,
  validateCompose,
  validateManifests,
} from "../src/render";
import { type DeployTools, ensureDeployTools, repoRoot } from "../src/tools";
import { BUILD_ENTRIES, ensureBuilt } from "../../platform/src/build";

const execFileP = promisify(execFile);
const inRepo = (p: string) => existsSync(join(repoRoot, p));
const clone = <T>(v: T): T => structuredClone(v);

let tools: DeployTools;
let knownEnv: Set<string>;
let rendered: Record<string, Manifest[]>;
let schemaErrors: SchemaError[];

beforeAll(async () => {
  tools = await ensureDeployTools((line) => process.stderr.write(`[deploy-tests] ${line}\n`));
  knownEnv = await knownEnvNames();
  const texts = Object.fromEntries(
    await Promise.all(
      Object.entries(KUSTOMIZATIONS).map(
        async ([label, dir]) => [label, await kustomizeBuild(tools, dir)] as const,
      ),
    ),
  );
  texts["secret-example"] = readFileSync(join(repoRoot, "deploy/k8s/secret.example.yaml"), "utf8");
  ({ objects: rendered, errors: schemaErrors } = await validateManifests(tools, texts));
}, 20 * 60_000);

const objectsOf = (label: string): Manifest[] => rendered[label] ?? [];
const kinds = (label: string) => objectsOf(label).map((o) => `${o.kind}/${o.metadata.name}`);
const NAMESPACES = { base: undefined, dev: "whiteslip-dev", prod: "whiteslip" } as const;

describe("Kubernetes manifests", () => {
  it(`every kustomization renders and every object is valid for Kubernetes ${KUBERNETES_VERSIONS.join(" and ")}`, () => {
    expect(schemaErrors).toEqual([]);
    for (const label of Object.keys(KUSTOMIZATIONS)) {
      const k = kinds(label);
      for (const svc of SERVICES)
        for (const kind of [
          "Deployment",
          "Service",
          "HorizontalPodAutoscaler",
          "PodDisruptionBudget",
          "NetworkPolicy",
        ])
          expect(k, label).toContain(`${kind}/${svc}`);
      expect(k, label).toContain("CronJob/billing-end-of-day");
    }
  });

  it("the schema validation rejects unknown fields, wrong types and named gRPC probe ports", async () => {
    const d = clone(objectsOf("prod").find((o) => o.kind === "Deployment")!) as Manifest & {
      spec: DeploymentSpec;
    };
    const c = d.spec.template.spec.containers[0]! as unknown as Record<string, unknown> & {
      ports: { containerPort: unknown }[];
      readinessProbe: { grpc: { port: unknown } };
    };
    c.livenessProb = { grpc: { port: 50051 } };
    c.ports[0]!.containerPort = "50051";
    c.readinessProbe.grpc.port = "grpc";
    const { errors } = await validateManifests(tools, { bad: JSON.stringify(d) }, ["1.30"]);
    const where = errors.map((e) => e.path);
    expect(where).toContain("spec.template.spec.containers.0");
    expect(where).toContain("spec.template.spec.containers.0.ports.0.containerPort");
    expect(where).toContain("spec.template.spec.containers.0.readinessProbe.grpc.port");
    const unknownKind = await validateManifests(
      tools,
      { bad: '{"apiVersion": "v1", "kind": "Servise", "metadata": {"name": "x"}}' },
      ["1.30"],
    );
    expect(unknownKind.errors.map((e) => e.message)).toEqual(["no schema for v1 Servise"]);
  });

  for (const [label, namespace] of Object.entries(NAMESPACES)) {
    it(`${label}: ports, probes, selectors, config and secret references agree for every service`, () => {
      expect(checkPlatform(objectsOf(label), { knownEnv, ...(namespace ? { namespace } : {}) })).toEqual([]);
      const cm = platformConfig(objectsOf(label));
      expect(cm?.data?.GRPC_PORT).toBe("50051");
      expect(cm?.data?.METRICS_PORT).toBe("9464");
    });

    it(`${label}: the end-of-day CronJob runs the ops CLI's eod daily at 00:05 Asia/Shanghai`, () => {
      expect(checkEndOfDayCronJob(objectsOf(label), inRepo)).toEqual([]);
    });
  }

  it("the consistency checks catch a port, probe, selector or object that does not match", () => {
    const objects = clone(objectsOf("prod"));
    platformConfig(objects)!.data!.GRPC_PORT = "50052";
    platformConfig(objects)!.data!.GRPC_HEALTH_PORT = "50062";
    const billing = objects.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "billing",
    ) as Manifest & {
      spec: DeploymentSpec;
    };
    billing.spec.template.metadata!.labels!["app.kubernetes.io/name"] = "billing-v2";
    // a liveness probe that follows the dependencies (service "") would restart every pod during an outage
    const billingContainer = billing.spec.template.spec.containers[0] as unknown as { livenessProbe: { grpc: { service?: string } } };
    delete billingContainer.livenessProbe.grpc.service;
    const withoutPdb = objects.filter(
      (o) => !(o.kind === "PodDisruptionBudget" && o.metadata.name === "credit"),
    );
    const problems = checkPlatform(withoutPdb, { knownEnv, namespace: "whiteslip" });
    expect(problems).toContain("Deployment credit: port grpc is 50051, GRPC_PORT is 50052");
    expect(problems).toContain(
      "Deployment notification: readinessProbe targets port 50061, not GRPC_HEALTH_PORT 50062",
    );
    expect(problems).toContain("Deployment notification: port health is 50061, GRPC_HEALTH_PORT is 50062");
    expect(problems).toContain('Deployment billing: livenessProbe asks health of "", not "liveness"');
    expect(problems).toContain("Deployment billing: selector does not select its pod template");
    expect(problems).toContain("Service billing: selects nothing, not billing");
    expect(problems).toContain("credit: no PodDisruptionBudget");
    expect(problems.some((p) => p.startsWith("ConfigMap whiteslip-config: BILLING_ADDR=billing:50051"))).toBe(
      true,
    );
  });

  it("every service and the end-of-day CronJob get their identity from cert-manager, mounted where TLS_*_FILE point", () => {
    for (const label of Object.keys(KUSTOMIZATIONS)) {
      const certs = objectsOf(label).filter((o) => o.kind === "Certificate");
      expect(certs.map((c) => (c.spec as { uris?: string[] }).uris?.[0]).filter(Boolean).sort(), label).toEqual(
        [...SERVICES, "eod"].map((n) => `spiffe://whiteslip.local/${n}`).sort(),
      );
      expect(checkIdentities(objectsOf(label)), label).toEqual([]);
    }
    const cm = platformConfig(objectsOf("prod"))!.data!;
    expect([cm.TLS_CA_FILE, cm.TLS_CERT_FILE, cm.TLS_KEY_FILE]).toEqual([
      "/etc/whiteslip/tls/ca.crt",
      "/etc/whiteslip/tls/tls.crt",
      "/etc/whiteslip/tls/tls.key",
    ]);
  });

  it("the identity checks catch a missing, misnamed, self-signed or borrowed certificate and plaintext gRPC", () => {
    const objects = clone(objectsOf("prod"));
    const cert = (name: string) =>
      objects.find((o) => o.kind === "Certificate" && o.metadata.name === `whiteslip-tls-${name}`)!.spec as {
        uris: string[];
        usages: string[];
        issuerRef: { name: string };
      };
    cert("billing").uris = ["spiffe://whiteslip.local/console"];
    cert("eod").usages = ["digital signature", "client auth", "server auth"];
    cert("collections").issuerRef.name = "whiteslip-selfsigned";
    const withoutCredit = objects.filter((o) => !(o.kind === "Certificate" && o.metadata.name === "whiteslip-tls-credit"));
    const notification = withoutCredit.find((o) => o.kind === "Deployment" && o.metadata.name === "notification") as Manifest & {
      spec: DeploymentSpec;
    };
    const tlsVolume = notification.spec.template.spec.volumes!.find((v) => v.name === "tls")!;
    tlsVolume.secret!.secretName = "whiteslip-tls-billing";
    const c = notification.spec.template.spec.containers[0]! as unknown as { env: { name: string; value?: string }[] };
    c.env.push({ name: "GRPC_PLAINTEXT_DEV", value: "1" });
    const problems = checkPlatform(withoutCredit, { knownEnv, namespace: "whiteslip" });
    expect(problems).toContain("Certificate whiteslip-tls-billing: uris must be exactly [spiffe://whiteslip.local/billing]");
    expect(problems).toContain("Certificate whiteslip-tls-eod: a client-only identity must not serve");
    expect(problems).toContain(
      "Certificate whiteslip-tls-collections: issued by the self-signed Issuer whiteslip-selfsigned, not by the platform CA",
    );
    expect(problems).toContain("credit: 0 Certificates write Secret whiteslip-tls-credit, expected 1");
    expect(problems).toContain("Deployment notification: Secret whiteslip-tls-notification must be mounted (its identity notification)");
    expect(problems).toContain("GRPC_PLAINTEXT_DEV is set: plaintext gRPC is for development only (production refuses it)");
    const cronJob = objectsOf("prod").find((o) => o.kind === "CronJob")!;
    const noMount = clone(cronJob) as unknown as { spec: { jobTemplate: { spec: { template: { spec: { volumes: unknown[] } } } } } };
    noMount.spec.jobTemplate.spec.template.spec.volumes = noMount.spec.jobTemplate.spec.template.spec.volumes.filter(
      (v) => (v as { name: string }).name !== "tls",
    );
    const others = objectsOf("prod").filter((o) => o.kind !== "CronJob");
    expect(checkEndOfDayCronJob([...others, noMount as unknown as Manifest], inRepo)).toContain(
      "CronJob billing-end-of-day: Secret whiteslip-tls-eod must be mounted (its identity eod)",
    );
    // the Indexed Job's shard count told to every pod, as many pods at once as completions
    const skew = clone(cronJob) as unknown as { spec: { jobTemplate: { spec: { parallelism: number } } } };
    skew.spec.jobTemplate.spec.parallelism = 2;
    expect(checkEndOfDayCronJob([...others, skew as unknown as Manifest], inRepo)).toContain(
      "CronJob billing-end-of-day: an Indexed Job needs completions = parallelism = EOD_SHARD_COUNT (got 4, 2, 4)",
    );
    // the compiled CLI, the bundle named directly, and the TypeScript entry are accepted; anything else is not
    const withArgs = (args: string[]) => {
      const j = clone(cronJob) as unknown as { spec: { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } } };
      j.spec.jobTemplate.spec.template.spec.containers[0]!.args = args;
      return checkEndOfDayCronJob([...others, j as unknown as Manifest], inRepo);
    };
    expect(withArgs(["ops", "eod"])).toEqual([]);
    expect(withArgs(["node", "packages/ops/dist/cli.js", "eod"])).toEqual([]);
    expect(withArgs(["node", "--import", "tsx", "packages/ops/src/cli.ts", "eod"])).toEqual([]);
    expect(withArgs(["ops", "portfolio"])).toContain("CronJob billing-end-of-day: does not run the eod command");
    expect(withArgs(["node", "packages/nope/dist/cli.js", "eod"])).toContain(
      "CronJob billing-end-of-day: packages/nope/dist/cli.js is not built from a source in the repository (packages/nope/src/cli.ts missing)",
    );
  });

  it("a Certificate that breaks cert-manager's CRD schema is refused", async () => {
    const cert = clone(objectsOf("prod").find((o) => o.kind === "Certificate" && o.metadata.name === "whiteslip-tls-billing")!);
    const spec = cert.spec as Record<string, unknown> & { privateKey: Record<string, unknown> };
    spec.usages = ["client-auth"];
    spec.privateKey.algorithm = "EC";
    delete spec.issuerRef;
    const { errors } = await validateManifests(tools, { bad: JSON.stringify(cert) }, ["1.30"]);
    expect(errors.map((e) => `${e.path}: ${e.message}`).sort()).toEqual([
      "spec.privateKey.algorithm: must be equal to one of the allowed values",
      "spec.usages.0: must be equal to one of the allowed values",
      "spec: must have required property issuerRef",
    ]);
  });

  it("dev: one replica, HPA up to 2, small resources, debug logs, evictable PDB", () => {
    const o = objectsOf("dev");
    expect(platformConfig(o)?.data?.LOG_LEVEL).toBe("debug");
    for (const svc of SERVICES) {
      const d = o.find((x) => x.kind === "Deployment" && x.metadata.name === svc) as Manifest & {
        spec: DeploymentSpec;
      };
      expect(d.spec.replicas).toBe(1);
      expect(d.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe("384Mi");
      const hpa = o.find((x) => x.kind === "HorizontalPodAutoscaler" && x.metadata.name === svc);
      expect(hpa?.spec).toMatchObject({ minReplicas: 1, maxReplicas: 2 });
      const pdb = o.find((x) => x.kind === "PodDisruptionBudget" && x.metadata.name === svc);
      expect(pdb?.spec).toMatchObject({ maxUnavailable: 1 });
    }
  });

  it("prod: three replicas spread over nodes and zones, HPA up to 10, PDB minAvailable 2, larger resources", () => {
    const o = objectsOf("prod");
    expect(platformConfig(o)?.data?.LOG_LEVEL).toBe("info");
    for (const svc of SERVICES) {
      const d = o.find((x) => x.kind === "Deployment" && x.metadata.name === svc) as Manifest & {
        spec: DeploymentSpec;
      };
      expect(d.spec.replicas).toBe(3);
      expect(d.spec.template.spec.containers[0]?.resources?.limits?.memory).toBe("1Gi");
      const spread = d.spec.template.spec.topologySpreadConstraints ?? [];
      expect(spread.map((t) => t.topologyKey).sort()).toEqual([
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
      ]);
      for (const t of spread) expect(t.labelSelector?.matchLabels).toEqual({ "app.kubernetes.io/name": svc });
      expect(
        o.find((x) => x.kind === "HorizontalPodAutoscaler" && x.metadata.name === svc)?.spec,
      ).toMatchObject({
        minReplicas: 3,
        maxReplicas: 10,
      });
      expect(o.find((x) => x.kind === "PodDisruptionBudget" && x.metadata.name === svc)?.spec).toMatchObject({
        minAvailable: 2,
      });
    }
  });

  it("the Secrets are only examples: valid, with the keys the services read, in no kustomization", () => {
    const objects = objectsOf("secret-example");
    const piiKeys = objects.at(-1);
    // one per service: its own database user and Kafka principal
    const perService = objects.slice(0, -1);
    expect(perService.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(SERVICES.map((s) => `Secret/${serviceSecretName(s)}`));
    for (const o of perService)
      expect(Object.keys((o as unknown as { stringData: object }).stringData).sort()).toEqual([...SERVICE_SECRET_KEYS].sort());
    // the personal-data keys: a Secret of their own, the blind-index keys in a key (file) of their own
    expect(piiKeys?.metadata.name).toBe(PII_SECRET_NAME);
    expect(Object.keys((piiKeys as unknown as { stringData: object }).stringData).sort()).toEqual(
      [...PII_SECRET_KEYS].sort(),
    );
    for (const dir of Object.values(KUSTOMIZATIONS)) {
      const text = readFileSync(join(repoRoot, dir, "kustomization.yaml"), "utf8");
      const lines = text.split("\n").filter((l) => !l.trim().startsWith("#"));
      expect(lines.join("\n"), dir).not.toMatch(/secret\.example/);
    }
  });

  it("the ops CLI has the eod command the CronJob calls", () => {
    expect(readFileSync(join(repoRoot, "packages/ops/src/cli.ts"), "utf8")).toMatch(/\.command\("eod"\)/);
  });
});

describe("compose", () => {
  let compose: ComposeFile;
  beforeAll(async () => {
    const v = await validateCompose(tools);
    expect(v.errors).toEqual([]);
    compose = v.compose;
  });

  it("is valid for the compose specification and consistent: KRaft Kafka, mongo:7, five services on their ports", () => {
    expect(
      checkCompose(compose, { knownEnv, dockerfile: "deploy/docker/Dockerfile", fileExists: inRepo }),
    ).toEqual([]);
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICES, "kafka", "mongo", "ops"].sort());
  });

  it("the compose checks catch a mismatched port or address", () => {
    const bad = clone(compose);
    bad.services.billing!.environment!.GRPC_PORT = "6000";
    bad.services.credit!.environment!.MONGODB_URI = "mongodb://localhost:27017";
    const problems = checkCompose(bad, {
      knownEnv,
      dockerfile: "deploy/docker/Dockerfile",
      fileExists: inRepo,
    });
    expect(problems).toContain("billing: no published port reaches GRPC_PORT 6000");
    expect(problems).toContain("billing: healthcheck port is not GRPC_PORT 6000");
    expect(problems).toContain("credit: BILLING_ADDR=billing:50051 does not reach billing");
    expect(problems).toContain("credit: MONGODB_URI must point at the mongo service");
  });
});

describe("image", () => {
  it("the Dockerfile lints clean, pins the repository's pnpm and runs as a non-root user", async () => {
    expect(await lintDockerfile(tools)).toEqual([]);
    const dockerfile = readFileSync(join(repoRoot, "deploy/docker/Dockerfile"), "utf8");
    const rootPkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      packageManager: string;
    };
    expect(rootPkg.packageManager).toBe(`pnpm@${/ARG PNPM_VERSION=(\S+)/.exec(dockerfile)?.[1]}`);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile .*--prod=false/);
    // the build stage compiles every bundle from the context's sources, and the runtime copies its result
    expect(dockerfile).toMatch(/^FROM deps AS build$/m);
    expect(dockerfile).toMatch(/^RUN node --import tsx packages\/platform\/src\/build.ts --force$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app \/app$/m);
    const user = /^USER (\d+)/m.exec(dockerfile)?.[1];
    expect(Number(user)).toBeGreaterThan(0);
    expect(dockerfile).toMatch(/ENTRYPOINT \["\/bin\/sh", "\/app\/deploy\/docker\/entrypoint.sh"\]/);
    const ignore = readFileSync(join(repoRoot, "deploy/docker/Dockerfile.dockerignore"), "utf8").split("\n");
    // a laptop's dist/ never reaches the image: the build stage makes its own
    expect(ignore).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", ".git"]));
    for (const needed of [
      "packages",
      "services",
      "proto",
      "pnpm-lock.yaml",
      "deploy/docker",
      "services/*/src",
    ])
      expect(ignore, needed).not.toContain(needed);
  });

  it("the entrypoint starts the service named by SERVICE from its compiled bundle, runs the compiled ops CLI, or runs the given command", async () => {
    const entry = join(repoRoot, "deploy/docker/entrypoint.sh");
    const dry = { ...process.env, ENTRYPOINT_DRY_RUN: "1" };
    await ensureBuilt();
    const entries = new Map(BUILD_ENTRIES.map((e) => [e.out, e.entry]));
    for (const svc of SERVICES) {
      const { stdout } = await execFileP("sh", [entry], { env: { ...dry, SERVICE: svc } });
      expect(stdout.trim()).toBe(`node --import ./packages/telemetry/dist/register.js services/${svc}/dist/main.js`);
      // what the image's build stage bundles: each service's own main.ts
      expect(entries.get(`services/${svc}/dist/main.js`)).toBe(`services/${svc}/src/main.ts`);
      expect(inRepo(`services/${svc}/src/main.ts`), `services/${svc}/src/main.ts`).toBe(true);
    }
    expect(entries.get("packages/telemetry/dist/register.js")).toBe("packages/telemetry/src/register.ts");
    expect((await execFileP("sh", [entry, "ops", "eod", "--date", "2026-03-01"], { env: dry })).stdout.trim()).toBe(
      "node packages/ops/dist/cli.js eod --date 2026-03-01",
    );
    const { stdout } = await execFileP("sh", [entry, "node", "--import", "tsx", "packages/ops/src/cli.ts", "eod"], { env: dry });
    expect(stdout.trim()).toBe("node --import tsx packages/ops/src/cli.ts eod");
    await expect(execFileP("sh", [entry], { env: { ...dry, SERVICE: "../../etc" } })).rejects.toMatchObject({
      code: 64,
    });
    // a tree without the bundles (the build stage did not run) fails at once, naming the missing file
    const bare = mkdtempSync(join(tmpdir(), "entrypoint-"));
    mkdirSync(join(bare, "deploy/docker"), { recursive: true });
    copyFileSync(entry, join(bare, "deploy/docker/entrypoint.sh"));
    const missing = await execFileP("sh", [join(bare, "deploy/docker/entrypoint.sh")], { env: { ...dry, SERVICE: "billing" } }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 66, stderr: expect.stringContaining("packages/telemetry/dist/register.js is missing") });
  });

  it("the compiled ops CLI answers as the TypeScript one does", async () => {
    await ensureBuilt({ names: ["ops"] });
    const compiled = await execFileP("sh", [join(repoRoot, "deploy/docker/entrypoint.sh"), "ops", "--help"]);
    const source = await execFileP(process.execPath, ["--import", "tsx", "packages/ops/src/cli.ts", "--help"], { cwd: repoRoot });
    expect(compiled.stdout).toContain("eod");
    expect(compiled.stdout).toBe(source.stdout);
  });

  it("the compose health check answers SERVING / NOT_SERVING from a real gRPC health service", async () => {
    // A grpc-js server with the standard health service, run where @grpc/grpc-js resolves.
    const server = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import * as grpc from "@grpc/grpc-js";
         import { HealthImplementation } from "grpc-health-check";
         const server = new grpc.Server();
         const health = new HealthImplementation({ "": "SERVING", liveness: "SERVING" });
         health.addToServer(server);
         server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
           if (e) throw e;
           process.stdout.write(port + "\\n");
         });
         process.stdin.on("data", () => { health.setStatus("", "NOT_SERVING"); process.stdout.write("flipped\\n"); });`,
      ],
      { cwd: join(repoRoot, "packages/grpc"), stdio: ["pipe", "pipe", "inherit"] },
    );
    try {
      const lines: string[] = [];
      const next = () =>
        new Promise<string>((resolve, reject) => {
          if (lines.length) return resolve(lines.shift()!);
          server.stdout.once("data", (b: Buffer) => {
            lines.push(...b.toString().trim().split("\n"));
            resolve(lines.shift()!);
          });
          server.once("exit", (code) => reject(new Error(`health server exited ${code}`)));
        });
      const port = await next();
      const check = join(repoRoot, "deploy/docker/healthcheck.mjs");
      await expect(execFileP(process.execPath, [check, port])).resolves.toBeDefined();
      server.stdin.write("flip\n");
      expect(await next()).toBe("flipped");
      await expect(execFileP(process.execPath, [check, port])).rejects.toMatchObject({ code: 1 });
      // a named service is asked for itself: liveness still SERVING after "" flipped
      await expect(execFileP(process.execPath, [check, port, "liveness"])).resolves.toBeDefined();
    } finally {
      server.kill();
    }
  });
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe("the container's commands on real infrastructure", () => {
  it("a service started as in the Deployment answers the gRPC probe and /metrics, the CronJob's eod completes, SIGTERM drains in the grace period", async () => {
    const provided = inject as unknown as (key: string) => unknown;
    // the image's build stage: the bundles the entrypoint starts (made here when missing or stale)
    await ensureBuilt();
    const [grpcPort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const suffix = randomBytes(4).toString("hex");
    // What cert-manager mounts (deploy/k8s/base/identities.yaml): billing's and the CronJob's certificates of one CA.
    const pki = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "deploy-pki-")), names: ["billing", "eod"] });
    const tlsOf = (name: string) => ({
      TLS_CA_FILE: pki.caFile,
      TLS_CERT_FILE: pki.files(name).cert,
      TLS_KEY_FILE: pki.files(name).key,
    });
    // What the ConfigMap and the Secret give the pod, with this run's infrastructure and ports.
    const env = {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: String(metricsPort),
      // the kubelet's probe port: plaintext grpc.health.v1 only; the main port is mutual TLS
      GRPC_HEALTH_PORT: String(healthPort),
      KAFKA_BROKERS: (provided("kafkaBrokers") as string[]).join(","),
      MONGODB_URI: provided("mongoUri") as string,
      MONGODB_DB: `deploy_tests_billing_${suffix}`,
      CONSUMER_GROUP: `deploy-tests-billing-${suffix}`,
      TOPIC_PREFIX: `deploy-tests-${suffix}.`, // topics of its own on the shared test broker
      // what the Secret gives the pod: separate random encryption and blind-index keys
      PII_KEYRING: JSON.stringify({
        encryption: { active: "e1", keys: { e1: randomBytes(32).toString("base64") } },
        index: { active: "i1", keys: { i1: randomBytes(32).toString("base64") } },
      }),
      BILLING_ADDR: `127.0.0.1:${grpcPort}`,
      // The CronJob runs at 00:05 for the day that has just ended; a fresh billing's business date is today, which
      // end-of-day may not close before it ends. So billing starts on yesterday's clock (its first business date is
      // yesterday) and the clock is back to now before the CronJob's eod runs.
      CLOCK_FILE: join(mkdtempSync(join(tmpdir(), "deploy-clock-")), "clock.json"),
    };
    const setOffset = (offsetMs: number) => {
      writeFileSync(`${env.CLOCK_FILE}.tmp`, JSON.stringify({ offsetMs }));
      renameSync(`${env.CLOCK_FILE}.tmp`, env.CLOCK_FILE);
    };
    setOffset(-24 * 3600_000);
    const entry = join(repoRoot, "deploy/docker/entrypoint.sh");
    const check = join(repoRoot, "deploy/docker/healthcheck.mjs");
    // Kafka as the platform team sets it up: the admin provisions topics and ACLs with the ops CLI, then the
    // pod connects as billing's own principal (its Secret's KAFKA_SASL_* in the manifests).
    const creds = provided("kafkaCredentials") as
      | { mechanism: string; admin: string; passwords: Record<string, string> }
      | null;
    if (creds) {
      const asAdmin = { KAFKA_SASL_MECHANISM: creds.mechanism, KAFKA_SASL_USERNAME: creds.admin, KAFKA_SASL_PASSWORD: creds.passwords[creds.admin]! };
      // through the image's compiled ops CLI (as the CronJob's eod below)
      await execFileP("sh", [entry, "ops", "kafka-provision"], {
        env: { ...env, ...asAdmin, BILLING_CONSUMER_GROUP: env.CONSUMER_GROUP },
        timeout: 60_000,
      });
      Object.assign(env, { KAFKA_SASL_MECHANISM: creds.mechanism, KAFKA_SASL_USERNAME: "billing", KAFKA_SASL_PASSWORD: creds.passwords.billing! });
    }
    const billing = spawn("sh", [entry], {
      env: { ...env, ...tlsOf("billing"), SERVICE: "billing" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    billing.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => billing.once("exit", (code) => resolve(code)));
    try {
      const until = Date.now() + 90_000;
      for (;;) {
        const ok = await execFileP(process.execPath, [check, String(healthPort)]).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (billing.exitCode !== null || Date.now() > until)
          throw new Error(`billing never SERVING:\n${stderr}`);
        await sleep(500);
      }
      // what kubelet asks: each probe's health service, as the Deployment names it, answers SERVING
      const deployment = objectsOf("prod").find((o) => o.kind === "Deployment" && o.metadata.name === "billing") as Manifest & { spec: DeploymentSpec };
      const probes = deployment.spec.template.spec.containers[0] as unknown as Record<string, { grpc: { service?: string } }>;
      const asked = ["startupProbe", "readinessProbe", "livenessProbe"].map((k) => probes[k]!.grpc.service ?? "");
      expect(asked).toEqual(["liveness", "readiness", "liveness"]);
      const probePort = (probes.readinessProbe as unknown as { grpc: { port: number } }).grpc.port;
      expect(String(probePort)).toBe(platformConfig(objectsOf("prod"))?.data?.GRPC_HEALTH_PORT);
      for (const name of asked) await execFileP(process.execPath, [check, String(healthPort), name]);
      // a name the server does not know is not SERVING (the check can fail)
      await expect(execFileP(process.execPath, [check, String(healthPort), "no-such-service"])).rejects.toThrow();
      // the main port is mutual TLS only: a plaintext health check there gets no answer
      await expect(execFileP(process.execPath, [check, String(grpcPort)])).rejects.toThrow();
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);

      setOffset(0); // 24 h later: yesterday has ended
      // the CronJob's own arguments (`ops eod`: the compiled CLI) through the image's entrypoint
      const job = objectsOf("prod").find((o) => o.kind === "CronJob") as unknown as { spec: { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } } };
      const args = job.spec.jobTemplate.spec.template.spec.containers[0]!.args;
      expect(args).toEqual(["ops", "eod"]);
      const eod = await execFileP(
        "sh",
        [entry, ...args],
        {
          env: { ...env, ...tlsOf("eod") },
          timeout: 60_000,
        },
      );
      expect(JSON.parse(eod.stdout)).toMatchObject({ status: expect.stringMatching(/COMPLETED/) });

      const termAt = Date.now();
      billing.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - termAt).toBeLessThan(30_000);
    } finally {
      if (billing.exitCode === null) billing.kill("SIGKILL");
    }
  }, 150_000);
});
