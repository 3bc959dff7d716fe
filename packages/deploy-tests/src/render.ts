/**
 * Renders deploy/ with the cached tools and validates it against the schemas:
 * kustomize build of an overlay, the Kubernetes JSON schemas (strict) through
 * tools/validate.py, the compose-spec schema, and hadolint for the Dockerfile.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import type { ComposeFile, Manifest } from "./checks";
import { type DeployTools, repoRoot } from "./tools";

const execFileP = promisify(execFile);

/** Kubernetes minor versions the manifests are validated against: the oldest supported and the newest. */
export const KUBERNETES_VERSIONS = ["1.30", "1.37"] as const;

/** The kustomizations under deploy/k8s, relative to the repository root. */
export const KUSTOMIZATIONS = {
  base: "deploy/k8s/base",
  dev: "deploy/k8s/overlays/dev",
  prod: "deploy/k8s/overlays/prod",
} as const;

/** One schema violation. */
export interface SchemaError {
  file: string;
  object: string;
  version?: string;
  path: string;
  message: string;
}

/** What tools/validate.py prints. */
export interface Validation<T> {
  documents: { file: string; object: T }[];
  errors: SchemaError[];
}

/** `kustomize build <dir>`: the rendered multi-document YAML. */
export async function kustomizeBuild(tools: DeployTools, dir: string): Promise<string> {
  const { stdout } = await execFileP(tools.kustomize, ["build", join(repoRoot, dir)], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return stdout;
}

async function runValidator<T>(tools: DeployTools, args: string[]): Promise<Validation<T>> {
  const { stdout } = await execFileP(tools.python, [tools.validateScript, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Validation<T>;
}

/**
 * The custom resources the manifests use, validated against the OpenAPI schema of their CRD (cert-manager's, as
 * @kubernetes-models/cert-manager compiles it): types, enums (key algorithms, usages, issuer kinds) and required
 * fields. These CRD schemas are open (no additionalProperties: false), so an unknown field passes here; the API
 * server prunes it, and checkIdentities names the fields each Certificate must have.
 */
const CUSTOM_RESOURCES: Record<string, (obj: object) => { validate(): void }> = {
  "cert-manager.io/v1 Certificate": (o) => new Certificate(o as never),
  "cert-manager.io/v1 Issuer": (o) => new Issuer(o as never),
};

/** Schema errors of one custom resource (empty when valid), in validate.py's shape. */
function customResourceErrors(obj: Manifest, file: string): SchemaError[] | undefined {
  const model = CUSTOM_RESOURCES[`${obj.apiVersion} ${obj.kind}`];
  if (!model) return undefined;
  try {
    model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) throw e;
    return errors.map((x) => ({
      file,
      object: `${obj.kind}/${obj.metadata?.name}`,
      version: "crd",
      path: x.instancePath.slice(1).replace(/\//g, ".") || "(root)",
      message: x.message ?? "invalid",
    }));
  }
}

/**
 * Validates multi-document YAML texts (by label) against the strict Kubernetes
 * schemas of `versions`, in one Python process, and the custom resources against
 * their CRD's schema; returns the parsed objects by label.
 */
export async function validateManifests(
  tools: DeployTools,
  yamlByLabel: Record<string, string>,
  versions: readonly string[] = KUBERNETES_VERSIONS,
): Promise<{ objects: Record<string, Manifest[]>; errors: SchemaError[] }> {
  const dir = await mkdtemp(join(tmpdir(), "whiteslip-deploy-"));
  try {
    const files: string[] = [];
    for (const [label, text] of Object.entries(yamlByLabel)) {
      const file = join(dir, `${label}.yaml`);
      await writeFile(file, text);
      files.push(file);
    }
    const v = await runValidator<Manifest>(tools, ["k8s", "--versions", versions.join(","), ...files]);
    const objects: Record<string, Manifest[]> = {};
    for (const label of Object.keys(yamlByLabel)) objects[label] = [];
    const labelOf = (file: string) => file.slice(dir.length + 1, -".yaml".length);
    for (const d of v.documents) objects[labelOf(d.file)]?.push(d.object);
    // validate.py has no schema for a custom resource: its CRD's schema decides instead (once, not per version)
    const custom = new Map<string, SchemaError[]>();
    for (const d of v.documents) {
      const errs = customResourceErrors(d.object, d.file);
      if (errs) custom.set(`${d.file}\u0000${d.object.kind}/${d.object.metadata?.name}`, errs);
    }
    const errors = v.errors.filter(
      (e) => !(e.message.startsWith("no schema for ") && custom.has(`${e.file}\u0000${e.object}`)),
    );
    errors.push(...[...custom.values()].flat());
    return { objects, errors: errors.map((e) => ({ ...e, file: labelOf(e.file) })) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Validates a compose file against the compose-spec schema; returns it parsed. */
export async function validateCompose(
  tools: DeployTools,
  file = join(repoRoot, "deploy/compose.yaml"),
): Promise<{ compose: ComposeFile; errors: SchemaError[] }> {
  const v = await runValidator<ComposeFile>(tools, ["compose", "--schema", tools.composeSchema, file]);
  return { compose: v.documents[0]?.object ?? { services: {} }, errors: v.errors };
}

/** hadolint findings for a Dockerfile (empty when clean). */
export async function lintDockerfile(
  tools: DeployTools,
  file = join(repoRoot, "deploy/docker/Dockerfile"),
): Promise<{ line: number; code: string; level: string; message: string }[]> {
  const r = await execFileP(tools.hadolint, ["--format", "json", "--no-fail", file]);
  return JSON.parse(r.stdout || "[]");
}

/**
 * The environment variable names the programs read: @whiteslip/config's base
 * variables, the ops CLI's service addresses, and the image's SERVICE. Read
 * from the sources so a renamed variable fails the deployment tests.
 */
export async function knownEnvNames(): Promise<Set<string>> {
  const names = new Set<string>(["SERVICE"]);
  const config = await readFile(join(repoRoot, "packages/config/src/index.ts"), "utf8");
  const base = /export const baseShape = \{([\s\S]*?)\n\} as const;/.exec(config)?.[1] ?? "";
  // baseShape spreads tlsShape (TLS_CA_FILE, …): its variables are read by every service and the ops CLI too
  const tls = /export const tlsShape = \{([\s\S]*?)\n\} as const;/.exec(config)?.[1] ?? "";
  for (const m of `${base}\n${tls}`.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)) if (m[1]) names.add(m[1]);
  const clients = await readFile(join(repoRoot, "packages/ops/src/clients.ts"), "utf8").catch(() => "");
  for (const m of clients.matchAll(/env\.([A-Z][A-Z0-9_]*)/g)) if (m[1]) names.add(m[1]);
  return names;
}
