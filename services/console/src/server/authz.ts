/**
 * Authorization rules of the console, as pure functions the routes call before any service is asked to act.
 * The page hides what a role may not do; these rules are what actually refuses it.
 *
 * - agent: works only the cases assigned to them (read and act), and the customer view of those accounts;
 * - supervisor: sees every queue and case, assigns and reassigns, reads the portfolio; does not act on a case;
 * - risk manager: reads the portfolio and the customer view, reads and edits the policy tables;
 * - admin: sees who is signed in and revokes a user's sessions; nothing else.
 */

/** A console role. */
export type Role = "agent" | "supervisor" | "risk_manager" | "admin";

/** All roles. */
export const ROLES: readonly Role[] = ["agent", "supervisor", "risk_manager", "admin"];

/** The signed-in user as the session carries it. */
export interface SessionUser {
  /** Login name. */
  username: string;
  /** Role. */
  role: Role;
  /** Collections agent id (agents only). */
  agentId?: string;
  /** Name shown in the page. */
  displayName: string;
}

/** Capabilities that depend on the role only. */
export type Permission =
  | "queue:own"
  | "queue:all"
  | "case:assign"
  | "agents:read"
  | "portfolio:read"
  | "policy:read"
  | "policy:edit"
  | "sessions:revoke";

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  agent: ["queue:own"],
  supervisor: ["queue:all", "case:assign", "agents:read", "portfolio:read"],
  risk_manager: ["portfolio:read", "policy:read", "policy:edit"],
  admin: ["sessions:revoke"],
};

/** Outcome of a check: allowed, or refused with a reason for the 403 body. */
export type Decision = { allowed: true } | { allowed: false; reason: string; message: string };

const ALLOW: Decision = { allowed: true };

function deny(reason: string, message: string): Decision {
  return { allowed: false, reason, message };
}

/** True when the role has the permission. */
export function can(user: SessionUser, permission: Permission): boolean {
  return GRANTS[user.role].includes(permission);
}

/** Checks a role permission. */
export function check(user: SessionUser, permission: Permission): Decision {
  return can(user, permission)
    ? ALLOW
    : deny("ROLE_NOT_PERMITTED", `role ${user.role} may not ${permission}`);
}

/** The part of a case that authorization looks at. */
export interface CaseOwnership {
  /** The agent holding the case, empty if none. */
  agentId: string;
}

/** Whether the user may open a case: its assigned agent, or a supervisor. */
export function canViewCase(user: SessionUser, c: CaseOwnership): Decision {
  if (user.role === "supervisor") return ALLOW;
  if (user.role === "agent") {
    if (user.agentId && c.agentId === user.agentId) return ALLOW;
    return deny("CASE_NOT_ASSIGNED_TO_YOU", "this case is not assigned to you");
  }
  return deny("ROLE_NOT_PERMITTED", `role ${user.role} does not work cases`);
}

/** Whether the user may act on a case (log a contact, record a promise, offer a plan, send a notice): its agent only. */
export function canWorkCase(user: SessionUser, c: CaseOwnership): Decision {
  if (user.role !== "agent") return deny("ROLE_NOT_PERMITTED", `role ${user.role} does not act on cases`);
  if (user.agentId && c.agentId === user.agentId) return ALLOW;
  return deny("CASE_NOT_ASSIGNED_TO_YOU", "this case is not assigned to you");
}

/**
 * Whether the user may see the customer view of an account: supervisors and risk managers always; an agent only
 * when one of the account's cases is assigned to them (`accountCases` = the account's cases).
 */
export function canViewAccount(user: SessionUser, accountCases: readonly CaseOwnership[]): Decision {
  if (user.role === "supervisor" || user.role === "risk_manager") return ALLOW;
  if (user.agentId && accountCases.some((c) => c.agentId === user.agentId)) return ALLOW;
  return deny("ACCOUNT_NOT_ASSIGNED_TO_YOU", "no case of this account is assigned to you");
}

/** The agent id whose queue a list request may show: an agent always their own; others any (or all when empty). */
export function queueAgentFilter(
  user: SessionUser,
  requested: string | undefined,
): { agentId: string } | Decision {
  if (user.role === "agent") {
    if (!user.agentId) return deny("AGENT_ID_MISSING", "your user has no collections agent id");
    if (requested && requested !== user.agentId)
      return deny("CASE_NOT_ASSIGNED_TO_YOU", "agents see only their own queue");
    return { agentId: user.agentId };
  }
  if (!can(user, "queue:all")) return deny("ROLE_NOT_PERMITTED", `role ${user.role} has no queues`);
  return { agentId: requested ?? "" };
}

/** Pages (hash routes) a role sees in the navigation; the server enforces the same through the checks above. */
export function navigationFor(role: Role): string[] {
  switch (role) {
    case "agent":
      return ["queue"];
    case "supervisor":
      return ["queue", "supervisor", "portfolio"];
    case "risk_manager":
      return ["portfolio", "policies"];
    case "admin":
      return ["sessions"];
  }
}
