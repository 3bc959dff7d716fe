/**
 * The ops CLI as a newcomer runs it: the real entry point (`npm run ops` → scripts/ops.sh →
 * packages/ops/src/cli.ts) answers --help, a command's --help, and refuses an unknown command or option with a
 * message and a non-zero exit; every command has its own help; and every `npm run ops -- …` command printed in
 * the READMEs, docs/ and the local run's start output parses (dry: a preAction hook stops before the work).
 * Needs no running platform.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli";
import { resolveTopics } from "../src/tail";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const COMMANDS = ["eod", "advance", "tail", "dlq", "reconcile", "account", "case", "score", "bureau-file", "portfolio", "strategies", "pii", "kafka-provision"];
const SUBCOMMANDS: Record<string, string[]> = {
  dlq: ["list", "show", "replay"],
  reconcile: ["list", "resolve"],
  pii: ["keys", "add-key", "activate", "retire"],
  strategies: ["show", "history", "promote"],
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 110_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e; // spawn failure or timeout, not an exit code
    return { code: err.code, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

class DryRun extends Error {
  constructor(readonly command: string[]) {
    super(`dry run: ${command.join(" ")}`);
  }
}

const walk = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(walk)];

/**
 * Parses `argv` with the real program without doing the work: a preAction hook stops before the action.
 * Returns the command path that would run and what the program wrote; rejects on a parse error.
 */
async function dry(argv: string[]): Promise<{ path: string[]; out: string; err: string }> {
  const program = buildProgram();
  let out = "";
  let err = "";
  for (const c of walk(program)) {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  }
  program.hook("preAction", (_root, action) => {
    const path: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) path.unshift(c.name());
    if (path[0] === "tail") resolveTopics(action.processedArgs[0] as string[]); // a documented topic must exist
    throw new DryRun(path);
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof DryRun) return { path: e.command, out, err };
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version")
      return { path: ["--help"], out, err };
    throw new Error(`${argv.join(" ")}: ${(e as Error).message}\n${err}`);
  }
  throw new Error(`${argv.join(" ")}: parsed without reaching an action`);
}

describe("the ops CLI's real entry point, as a newcomer runs it", () => {
  let help: Run;
  let eodHelp: Run;
  let unknownCommand: Run;
  let unknownOption: Run;
  beforeAll(async () => {
    // Four processes at once: each starts node + tsx (seconds on a loaded machine); every other
    // command's help is checked in-process below with the same program.
    [help, eodHelp, unknownCommand, unknownOption] = await Promise.all([
      run("npm", ["run", "--silent", "ops", "--", "--help"]),
      run("bash", ["scripts/ops.sh", "eod", "--help"]),
      run("bash", ["scripts/ops.sh", "no-such-command"]),
      run("bash", ["scripts/ops.sh", "tail", "--no-such-option"]),
    ]);
  }, 120_000);

  it("npm run ops -- --help lists every command", () => {
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: whiteslip-ops/);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
  });

  it("eod --help describes eod and its --date", () => {
    expect(eodHelp.code, eodHelp.stderr).toBe(0);
    expect(eodHelp.stdout).toMatch(/^Usage: whiteslip-ops eod/);
    expect(eodHelp.stdout).toContain("--date <YYYY-MM-DD>");
  });

  it("an unknown command or option exits non-zero with a message", () => {
    expect(unknownCommand.code).not.toBe(0);
    expect(unknownCommand.stderr).toContain("unknown command 'no-such-command'");
    expect(unknownOption.code).not.toBe(0);
    expect(unknownOption.stderr).toContain("unknown option '--no-such-option'");
  });
});

describe("the ops CLI's program", () => {
  it("has --help for every command and subcommand, and --version", async () => {
    for (const c of COMMANDS) {
      const r = await dry([c, "--help"]);
      expect(r.out, c).toMatch(new RegExp(`^Usage: whiteslip-ops ${c}\\b`));
      for (const sub of SUBCOMMANDS[c] ?? []) {
        expect(r.out, `${c} lists ${sub}`).toMatch(new RegExp(`^  ${sub}\\b`, "m"));
        expect((await dry([c, sub, "--help"])).out).toMatch(
          new RegExp(`^Usage: whiteslip-ops ${c} ${sub}\\b`),
        );
      }
    }
    const { version } = JSON.parse(readFileSync(join(ROOT, "packages/ops/package.json"), "utf8")) as {
      version: string;
    };
    expect((await dry(["--version"])).out.trim()).toBe(version);
  });

  it("refuses what it does not know, and parses what it does", async () => {
    await expect(dry(["nope"])).rejects.toThrow(/unknown command 'nope'/);
    await expect(dry(["eod", "--nope"])).rejects.toThrow(/unknown option '--nope'/);
    await expect(dry(["account"])).rejects.toThrow(/missing required argument 'accountId'/);
    await expect(dry(["dlq", "replay", "overdue"])).rejects.toThrow(/required option '--group <group>'/);
    await expect(dry(["tail", "no-such-topic"])).rejects.toThrow(/unknown topic "no-such-topic"/);
    expect(
      (await dry(["dlq", "replay", "overdue", "--group", "collections", "--id", "a", "--id", "b"])).path,
    ).toEqual(["dlq", "replay"]);
  });
});

/**
 * Every `npm run ops -- …` in the text, with <placeholders> filled and [optional parts] included; generic forms
 * (`npm run ops -- <command> …`, `npm run -s ops -- …`) are not commands and are left out.
 */
function documentedCommands(text: string): string[][] {
  const found = [...text.matchAll(/npm run (?:-s )?ops -- ([^`"·\n]+)/g)].map((m) => (m[1] ?? "").trim());
  return found
    .filter((c) => !c.startsWith("<") && !c.startsWith("…"))
    .map((c) =>
      c
        .replace(/<[^>]+>/g, "x")
        .replace(/[[\]…]/g, " ")
        .trim()
        .split(/\s+/),
    );
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

describe("the documented ops commands", () => {
  const docs = [
    join(ROOT, "README.md"),
    ...["docs", "services", "packages", "deploy"].flatMap((d) => markdownFiles(join(ROOT, d))),
  ];
  const startOutput = join(ROOT, "packages/platform/src/run.ts"); // prints the `  Try:` line

  it("README.md's section and the start output print npm run ops commands", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Local run, one service, the ops CLI"));
    expect(documentedCommands(section).length).toBeGreaterThanOrEqual(10);
    expect(documentedCommands(readFileSync(startOutput, "utf8")).map((c) => c.join(" "))).toContain(
      "tail overdue due-soon",
    );
  });

  it("every one of them parses, and none is written as whiteslip-ops <command>", async () => {
    let count = 0;
    for (const file of [startOutput, ...docs]) {
      const text = readFileSync(file, "utf8");
      // A newcomer has no whiteslip-ops on PATH: documented invocations are `npm run ops -- …`.
      expect(
        text,
        `${relative(ROOT, file)} documents a command as whiteslip-ops, not npm run ops --`,
      ).not.toMatch(/pnpm exec whiteslip-ops|`whiteslip-ops\s+[a-z]/);
      for (const argv of documentedCommands(text)) {
        const r = await dry(argv).catch((e: Error) => {
          throw new Error(
            `${relative(ROOT, file)}: \`npm run ops -- ${argv.join(" ")}\` does not parse: ${e.message}`,
          );
        });
        expect(r.path.length, argv.join(" ")).toBeGreaterThan(0);
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(11);
  });
});
