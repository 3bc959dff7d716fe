/**
 * What every route module shares: the service clients, the signed-in user, the permission and case-ownership
 * checks, the idempotency key of a user action, and schema-validated bodies (zod: a body that breaks its schema is
 * a 400 with one field violation per problem, before any service is called).
 */
import { collections } from "@whiteslip/contracts";
import { parseCny } from "@whiteslip/core";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import {
  type CaseOwnership,
  check,
  type Decision,
  type Permission,
  type SessionUser,
} from "../authz";
import type { ServiceClients } from "../clients";
import { badRequest, forbidden, HttpError } from "../errors";

export const JSON_OPTS = { alwaysEmitImplicit: true } as const;

/** The case statuses an agent's queue shows. */
export const ACTIVE = [collections.CaseStatus.OPEN, collections.CaseStatus.PRE_DELINQUENT, collections.CaseStatus.PAUSED];

export function enforce(d: Decision): void {
  if (!d.allowed) throw forbidden(d.reason, d.message);
}

export function userOf(req: FastifyRequest): SessionUser {
  if (!req.user) throw new HttpError(401, { error: { code: "UNAUTHENTICATED", message: "sign in first" } });
  return req.user;
}

/** A path parameter as a string ("" when absent). */
export function param(req: FastifyRequest, name: string): string {
  const v = (req.params as Record<string, unknown>)[name];
  return typeof v === "string" ? v : "";
}

/**
 * The body of `req` as `schema` describes it, or a 400 with a violation per problem (`field` is the path in the
 * body, e.g. `rules.2.channel`). A missing body is an empty object.
 */
export function parseBody<S extends z.ZodType>(schema: S, req: FastifyRequest): z.output<S> {
  const r = schema.safeParse(req.body && typeof req.body === "object" ? req.body : {});
  if (r.success) return r.data;
  throw badRequest(r.error.issues.map((i) => ({ field: i.path.map(String).join(".") || "body", description: i.message })));
}

const KEY = /^[A-Za-z0-9_-]{16,100}$/;

/**
 * The idempotency key of a user action: the page makes one per form render and sends it with the submit (body
 * `idempotencyKey` or header `Idempotency-Key`), so a double submit, a retried request or a replay carries the same
 * key and the service changes nothing twice. Required — the console never makes one up per request. Forwarded scoped
 * to the signed-in user, so one user's key never answers another's action.
 */
export function idempotencyKey(req: FastifyRequest, body: { idempotencyKey?: string | undefined }): string {
  const header = req.headers["idempotency-key"];
  const key = body.idempotencyKey || (typeof header === "string" ? header : "");
  if (!KEY.test(key))
    throw badRequest([{ field: "idempotencyKey", description: "one key per user action (per form), 16–100 of A-Z a-z 0-9 _ -" }]);
  return `console:${userOf(req).username}:${key}`;
}

/** Every case-action form carries its idempotency key (checked by `idempotencyKey`, after the form's own fields). */
export const actionForm = z.object({ idempotencyKey: z.string().optional() });

/** A whole number, sent as a JSON number or a numeric string (form fields). */
export const wholeNumber = (description: string) =>
  z.union([z.number(), z.string().regex(/^-?\d+$/)], { error: description }).transform(Number).pipe(z.number().int({ error: description }));

/**
 * A money amount: `amountFen` (integer string) or `amount` in yuan (`1234.56`), more than zero; violations on
 * `amount`.
 */
export const moneyForm = z
  .object({ amountFen: z.string().optional(), amount: z.string().optional() })
  .transform((b, ctx) => {
    let fen: bigint;
    try {
      fen = b.amountFen !== undefined && /^\d+$/.test(b.amountFen) ? BigInt(b.amountFen) : parseCny(b.amount ?? "");
    } catch {
      ctx.addIssue({ code: "custom", path: ["amount"], message: "must be an amount in yuan like 1234.56" });
      return z.NEVER;
    }
    if (fen <= 0n) {
      ctx.addIssue({ code: "custom", path: ["amount"], message: "must be more than zero" });
      return z.NEVER;
    }
    return fen;
  });

/** Enum value by short name (`CALL` → ContactChannel.CALL), as a zod schema; UNSPECIFIED and unknown names refused. */
export function protoEnum<E extends Record<string, string | number>>(e: E, description: string) {
  return z.string({ error: description }).transform((name, ctx) => {
    const v = name === "" || name === "UNSPECIFIED" ? undefined : e[name as keyof E];
    if (typeof v !== "number") {
      ctx.addIssue({ code: "custom", message: description });
      return z.NEVER;
    }
    return v as E[keyof E];
  });
}

/** What a route module gets. */
export interface RouteContext {
  clients: ServiceClients;
  /** preHandler: the signed-in user holds `p` (403 otherwise). */
  need(p: Permission): (req: FastifyRequest) => Promise<void>;
  /** Calls a service, tagging a failure with its name for the error body. */
  call<T>(service: string, p: Promise<T>): Promise<T>;
  /** Loads the route's `:caseId` and checks the user may see or work it (404 / 403 before anything else is read). */
  loadCase(
    req: FastifyRequest,
    rule: (u: SessionUser, c: CaseOwnership) => Decision,
  ): Promise<{ user: SessionUser; got: collections.GetCaseResponse; kase: collections.Case }>;
}

export function routeContext(clients: ServiceClients): RouteContext {
  const call = async <T>(service: string, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      if (e && typeof e === "object") (e as { service?: string }).service = service;
      throw e;
    }
  };
  return {
    clients,
    call,
    need: (p) => async (req) => enforce(check(userOf(req), p)),
    loadCase: async (req, rule) => {
      const user = userOf(req);
      const caseId = param(req, "caseId");
      const got = await call("collections", clients.collections.getCase({ caseId }));
      if (!got.case) throw new HttpError(404, { error: { code: "NOT_FOUND", message: `case ${caseId} not found` } });
      enforce(rule(user, got.case));
      return { user, got, kase: got.case };
    },
  };
}

/** Takes the settled answers of a page's parallel reads: the value, or null with the part's name in `unavailable`. */
export function partial(unavailable: string[]) {
  return <T, R>(r: PromiseSettledResult<T>, name: string, f: (v: T) => R): R | null => {
    if (r.status === "fulfilled") return f(r.value);
    unavailable.push(name);
    return null;
  };
}
