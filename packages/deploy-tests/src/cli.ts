/**
 * Validates deploy/ from the command line, as the tests do:
 *
 *   pnpm --filter @whiteslip/deploy-tests validate        (or: tsx packages/deploy-tests/src/cli.ts)
 *
 * Renders every kustomization, validates each object against the strict
 * Kubernetes schemas, runs the consistency checks, validates the compose file
 * and lints the Dockerfile. Prints each problem; exit status 1 when there is any.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkCompose, checkEndOfDayCronJob, checkPlatform } from "./checks";
import {
  KUBERNETES_VERSIONS,
  KUSTOMIZATIONS,
  knownEnvNames,
  kustomizeBuild,
  lintDockerfile,
  validateCompose,
  validateManifests,
} from "./render";
import { ensureDeployTools, repoRoot } from "./tools";

const NAMESPACES: Record<string, string | undefined> = { dev: "whiteslip-dev", prod: "whiteslip" };

async function main(): Promise<number> {
  const tools = await ensureDeployTools((line) => process.stderr.write(`${line}\n`));
  const knownEnv = await knownEnvNames();
  const inRepo = (p: string) => existsSync(join(repoRoot, p));
  const problems: string[] = [];
  const texts: Record<string, string> = {};
  for (const [label, dir] of Object.entries(KUSTOMIZATIONS)) texts[label] = await kustomizeBuild(tools, dir);
  const { objects, errors } = await validateManifests(tools, texts);
  for (const e of errors)
    problems.push(`${e.file}: ${e.object} (Kubernetes ${e.version}) ${e.path}: ${e.message}`);
  for (const label of Object.keys(KUSTOMIZATIONS)) {
    const o = objects[label] ?? [];
    const namespace = NAMESPACES[label];
    const found = [
      ...checkPlatform(o, { knownEnv, ...(namespace ? { namespace } : {}) }),
      ...checkEndOfDayCronJob(o, inRepo),
    ];
    problems.push(...found.map((p) => `${label}: ${p}`));
    process.stdout.write(`${label}: ${o.length} objects rendered\n`);
  }
  const compose = await validateCompose(tools);
  for (const e of compose.errors) problems.push(`compose: ${e.path}: ${e.message}`);
  problems.push(
    ...checkCompose(compose.compose, {
      knownEnv,
      dockerfile: "deploy/docker/Dockerfile",
      fileExists: inRepo,
    }).map((p) => `compose: ${p}`),
  );
  for (const f of await lintDockerfile(tools))
    problems.push(`Dockerfile:${f.line}: ${f.code} ${f.level}: ${f.message}`);
  for (const p of problems) process.stdout.write(`✗ ${p}\n`);
  process.stdout.write(
    problems.length === 0
      ? `deploy/ is valid (Kubernetes ${KUBERNETES_VERSIONS.join(", ")}, compose-spec, hadolint)\n`
      : `${problems.length} problem(s)\n`,
  );
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(2);
  },
);
