/**
 * `whiteslip-ops pii …`: the rotation steps on a keyring file — the local run's generated one in the cache by
 * default, or `--file` (a copy of the Secret's keyring JSON, to put back into the Secret). Prints key ids, never keys.
 *
 *   pii keys                           the ids: active and known, encryption and index
 *   pii add-key [--index]              step 1: a new random key, not active yet (roll it out to every replica)
 *   pii activate <id> [--index]        step 2: new values are sealed (indexed) with it; each service's start-up
 *                                      sweep moves stored values to it (PII_REENCRYPT=sweep, the default)
 *   pii retire <id> [--index]          step 3: drop an old key once every service's sweep reported done
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  activateKey,
  addKey,
  describeKeyring,
  type KeyKind,
  type KeyringMaterial,
  LocalKeyProvider,
  parseKeyring,
  retireKey,
  writeKeyringFile,
} from "@whiteslip/pii";
import { localKeysDir } from "@whiteslip/runtime";

/** Runs a `pii` subcommand; returns the exit code. */
export async function piiCommand(
  args: { sub: string | undefined; id: string | undefined; index: boolean; file: string | undefined },
  out: (line: string) => void,
): Promise<number> {
  const path = args.file ?? join(localKeysDir(), "pii-keyring.json");
  const kind: KeyKind = args.index ? "index" : "encryption";
  const load = async (): Promise<KeyringMaterial> => {
    if (args.file) {
      if (!existsSync(path)) throw new Error(`${path}: no such keyring file`);
      return JSON.parse(readFileSync(path, "utf8")) as KeyringMaterial;
    }
    return new LocalKeyProvider(localKeysDir()).load(); // generates the local keyring on first use
  };
  const save = (m: KeyringMaterial) => {
    parseKeyring(m);
    writeKeyringFile(path, m);
  };
  const show = (m: KeyringMaterial) => out(JSON.stringify({ file: path, ...describeKeyring(m) }, null, 2));
  const m = await load();
  switch (args.sub) {
    case "keys":
      show(m);
      return 0;
    case "add-key": {
      const r = addKey(m, kind);
      save(r.material);
      out(
        `added ${kind} key ${r.id} (not active). Roll the keyring out to every replica, then: pii activate ${r.id}${args.index ? " --index" : ""}`,
      );
      show(r.material);
      return 0;
    }
    case "activate": {
      if (!args.id) throw new Error("pii activate <key id> [--index]");
      const next = activateKey(m, kind, args.id);
      save(next);
      out(
        `${kind} key ${args.id} is active. Restart the services: each one's start-up sweep moves stored values to it (progress in its log and its pii_rotation collection).`,
      );
      show(next);
      return 0;
    }
    case "retire": {
      if (!args.id) throw new Error("pii retire <key id> [--index]");
      const next = retireKey(m, kind, args.id);
      save(next);
      out(`${kind} key ${args.id} retired.`);
      show(next);
      return 0;
    }
    default:
      throw new Error(
        "usage: whiteslip-ops pii <keys|add-key|activate|retire> [id] [--index] [--file keyring.json]",
      );
  }
}
