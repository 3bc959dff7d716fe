/**
 * Personal-data keys of a service: where they come from (a Secret, a KMS-style provider, or — outside production —
 * the local run's generated keyring in the cache), and the background re-encryption that moves stored values to the
 * active keys after a rotation.
 */
import { join } from "node:path";
import { cacheRoot, isInfrastructureError } from "@whiteslip/core";
import {
  describeKeyring,
  type KeyProvider,
  type KeySettings,
  keyProviderFor,
  PiiCipher,
} from "@whiteslip/pii";
import type { Logger } from "@whiteslip/telemetry";
import type { Collection, Document, Filter } from "mongodb";

/** Folder of the local run's generated keyring: `<cache>/keys`. */
export function localKeysDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "keys");
}

/** Loads the service's keyring from the provider its settings name and logs where it came from (ids only). */
export async function loadPiiCipher(
  settings: KeySettings,
  logger: Logger,
  opts: { env?: NodeJS.ProcessEnv; provider?: KeyProvider } = {},
): Promise<PiiCipher> {
  const provider = opts.provider ?? keyProviderFor(settings, localKeysDir(opts.env));
  if (settings.NODE_ENV === "production" && !provider.production)
    throw new Error(
      `${provider.source} may not be used in production: give the keys through a Secret or a KMS`,
    );
  const material = await provider.load();
  const cipher = new PiiCipher(material);
  logger.info({ keys: describeKeyring(material), source: provider.source }, "personal-data keys loaded");
  return cipher;
}

/** A collection whose documents hold sealed personal data. */
export interface SealedCollection {
  collection: Collection<Document>;
  /** Fields holding values sealed by PiiCipher.encrypt (missing, null or empty fields are skipped). */
  fields: readonly string[];
  /** Blind-index fields, each with the sealed field whose clear value it indexes. */
  indexes?: readonly { field: string; of: string }[];
}

/** Progress of one collection's sweep, as stored in `pii_rotation` (`_id` = collection name). */
export interface SweepProgress {
  _id: string;
  /** `<encryption key id>/<index key id>`: the keys the sweep moves every value to. */
  target: string;
  /** Last `_id` done; a restarted sweep with the same target goes on after it. */
  lastId: unknown;
  scanned: number;
  resealed: number;
  reindexed: number;
  /** Documents another writer changed during the sweep and that still held an old key after 3 tries. */
  skipped: number;
  done: boolean;
  startedAt: Date;
  updatedAt: Date;
}

/**
 * Background re-encryption after a key rotation: sweeps each sealed collection in `_id` order, re-seals every value
 * not under the active encryption key and re-computes every blind index not under the active index key, one
 * conditional update per document (only if the values it read are still there, so a concurrent write by the service
 * — already under the active key — is never overwritten). Idempotent (a value under the active key is left alone) and
 * resumable (progress in `pii_rotation`; a restart with the same keys goes on after the last document done). Each
 * start of the service sweeps once; old keys can be retired when the sweeps report done with nothing skipped.
 */
export class PiiReencryption {
  private running: Promise<SweepProgress[]> | undefined;
  private stopping = false;
  private moved = 0;

  constructor(
    private readonly o: {
      pii: PiiCipher;
      collections: readonly SealedCollection[];
      progress: Collection<SweepProgress>;
      logger: Logger;
      batchSize?: number;
      /** Stop (not done) after this many documents in one run, as a crash would — for tests of the resume. */
      stopAfter?: number;
    },
  ) {}

  /** Starts the sweep in the background (errors are logged; infrastructure trouble is retried by the next start). */
  start(): void {
    this.running ??= this.run().catch((e) => {
      this.o.logger.error(
        { err: (e as Error).message, infrastructure: isInfrastructureError(e) },
        "pii re-encryption stopped",
      );
      return [];
    });
  }

  /** The start-up sweep's result (starts it if it was not started). */
  finished(): Promise<SweepProgress[]> {
    this.start();
    return this.running!;
  }

  /** Stops after the current document. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Sweeps every collection once; resolves to their progress. */
  async run(): Promise<SweepProgress[]> {
    const out: SweepProgress[] = [];
    for (const c of this.o.collections) {
      if (this.stopping) break;
      out.push(await this.sweep(c));
    }
    return out;
  }

  private async sweep(c: SealedCollection): Promise<SweepProgress> {
    const { pii, progress, logger } = this.o;
    const name = c.collection.collectionName;
    const target = `${pii.activeKeyId}/${pii.activeIndexKeyId}`;
    const now = new Date();
    const prior = await progress.findOne({ _id: name });
    const resume = prior && prior.target === target && !prior.done;
    let p: SweepProgress = resume
      ? prior
      : {
          _id: name,
          target,
          lastId: null,
          scanned: 0,
          resealed: 0,
          reindexed: 0,
          skipped: 0,
          done: false,
          startedAt: now,
          updatedAt: now,
        };
    await progress.replaceOne({ _id: name }, p, { upsert: true });
    logger.info(
      { collection: name, target, resumeAfter: resume ? String(p.lastId) : undefined },
      "pii re-encryption sweep started",
    );
    const projection = Object.fromEntries(
      [...c.fields, ...(c.indexes ?? []).flatMap((i) => [i.field, i.of])].map((f) => [f, 1]),
    );
    const batch = this.o.batchSize ?? 200;
    for (;;) {
      if (this.stopping) return p;
      const filter = (p.lastId === null ? {} : { _id: { $gt: p.lastId } }) as Filter<Document>;
      const docs = await c.collection.find(filter, { projection }).sort({ _id: 1 }).limit(batch).toArray();
      if (docs.length === 0) break;
      for (const d of docs) {
        if (this.stopping || (this.o.stopAfter !== undefined && this.moved >= this.o.stopAfter)) {
          await progress.replaceOne({ _id: name }, p);
          return p;
        }
        this.moved++;
        const r = await this.moveOne(c, d);
        p = {
          ...p,
          scanned: p.scanned + 1,
          resealed: p.resealed + r.resealed,
          reindexed: p.reindexed + r.reindexed,
          skipped: p.skipped + (r.skipped ? 1 : 0),
          lastId: d._id,
          updatedAt: new Date(),
        };
      }
      await progress.replaceOne({ _id: name }, p);
      logger.info(
        { collection: name, scanned: p.scanned, resealed: p.resealed, reindexed: p.reindexed },
        "pii re-encryption progress",
      );
    }
    p = { ...p, done: true, updatedAt: new Date() };
    await progress.replaceOne({ _id: name }, p);
    logger.info(
      {
        collection: name,
        target,
        scanned: p.scanned,
        resealed: p.resealed,
        reindexed: p.reindexed,
        skipped: p.skipped,
      },
      "pii re-encryption sweep done",
    );
    return p;
  }

  /** Moves one document to the active keys; retries when another writer changed it in between. */
  private async moveOne(
    c: SealedCollection,
    first: Document,
  ): Promise<{ resealed: number; reindexed: number; skipped: boolean }> {
    const { pii } = this.o;
    let d: Document | null = first;
    for (let attempt = 0; attempt < 3 && d; attempt++) {
      const set: Document = {};
      const expect: Document = { _id: d._id };
      let resealed = 0;
      let reindexed = 0;
      for (const f of c.fields) {
        const v = d[f];
        if (typeof v !== "string" || v === "") continue;
        const next = pii.reseal(v);
        if (next === null) continue;
        set[f] = next;
        expect[f] = v;
        resealed++;
      }
      for (const i of c.indexes ?? []) {
        const v = d[i.field];
        const source = d[i.of];
        if (typeof v !== "string" || typeof source !== "string" || pii.isCurrentIndex(v)) continue;
        set[i.field] = pii.blindIndex(pii.decrypt(source));
        expect[i.field] = v;
        reindexed++;
      }
      if (resealed + reindexed === 0) return { resealed: 0, reindexed: 0, skipped: false };
      const r = await c.collection.updateOne(expect, { $set: set });
      if (r.matchedCount === 1) return { resealed, reindexed, skipped: false };
      d = await c.collection.findOne({ _id: d._id });
    }
    return { resealed: 0, reindexed: 0, skipped: d !== null };
  }
}
