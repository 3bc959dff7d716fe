import { timestampDate } from "@bufbuild/protobuf/wkt";
import { notification as pb } from "@whiteslip/contracts";
import type { Clock } from "@whiteslip/core";
import { auditActor, type ServiceRegistration, service } from "@whiteslip/grpc";
import { maskEmail, maskPhone } from "@whiteslip/pii";
import { getCadencePolicy } from "../app/get-cadence-policy";
import { getNotificationStats } from "../app/get-notification-stats";
import { listInbox } from "../app/list-inbox";
import { listNotifications } from "../app/list-notifications";
import { markInboxRead } from "../app/mark-inbox-read";
import type {
  CustomerRepository,
  EngagementRepository,
  MessageRepository,
  PolicyTableRepository,
} from "../app/ports";
import { listReconciliations, type Resolution, resolveReconciliation } from "../app/reconciliations";
import { recordEngagement } from "../app/record-engagement";
import { setPreferences } from "../app/set-preferences";
import type { NotificationSettings } from "../app/settings";
import { updateCadencePolicy } from "../app/update-cadence-policy";
import { upsertContactPoints } from "../app/upsert-contact-points";
import type { Category, Channel } from "../domain/model";
import {
  cadencePolicyToPb,
  cadenceRuleFromPb,
  categoryFromPb,
  categoryToPb,
  channelFromPb,
  channelToPb,
  inboxToPb,
  kindFromPb,
  notificationToPb,
  statusToPb,
} from "./proto-mapping";

const RESOLUTIONS: Partial<Record<pb.Resolution, Resolution>> = {
  [pb.Resolution.DELIVERED]: "DELIVERED",
  [pb.Resolution.RESEND]: "RESEND",
  [pb.Resolution.LOOKUP]: "LOOKUP",
};

/** What the handlers need. */
export interface HandlerDeps {
  messages: MessageRepository;
  customers: CustomerRepository;
  engagements: EngagementRepository;
  clock: Clock;
  settings: NotificationSettings;
  /** The cadence policy table. */
  policies: PolicyTableRepository;
}

/** NotificationService bound to the use cases; DomainErrors become gRPC statuses in @whiteslip/grpc. */
export function notificationService(d: HandlerDeps): ServiceRegistration {
  return service(pb.NotificationService, {
    getCadencePolicy: async () => ({ current: cadencePolicyToPb(await getCadencePolicy(d.policies)) }),
    updateCadencePolicy: async (req, ctx) => ({
      current: cadencePolicyToPb(
        await updateCadencePolicy(d.policies, d.clock, {
          rules: req.rules.map(cadenceRuleFromPb),
          expectedVersion: req.expectedVersion,
          actor: auditActor(ctx, req.actor),
        }),
      ),
    }),
    upsertContactPoints: async (req) => {
      const p = await upsertContactPoints(d.customers, d.clock, req);
      return {
        customerId: p.customerId,
        phoneMasked: p.phone ? maskPhone(p.phone) : "",
        emailMasked: p.email ? maskEmail(p.email) : "",
      };
    },
    setPreferences: async (req) => {
      const p = await setPreferences(d.customers, d.clock, {
        customerId: req.customerId,
        preferences: req.preferences.map((x) => ({
          category: categoryFromPb(x.category),
          channels: x.channels.map(channelFromPb),
        })),
        quietHoursConsent: req.quietHoursConsent,
      });
      return {
        preferences: Object.entries(p.preferences).map(([category, channels]) => ({
          category: categoryToPb(category as Category),
          channels: (channels as Channel[]).map(channelToPb),
        })),
      };
    },
    getNotificationStats: async (req) => {
      const r = await getNotificationStats(d.messages, d.settings.defaultTimeZone, req, d.clock.now());
      return {
        counts: r.counts.map((c) => ({ channel: channelToPb(c.channel), status: statusToPb(c.status), count: BigInt(c.count) })),
        total: BigInt(r.total),
        dueNow: BigInt(r.dueNow),
      };
    },
    listNotifications: async (req) => {
      const r = await listNotifications(d.messages, req);
      return { notifications: r.items.map(notificationToPb), nextPageToken: r.nextPageToken };
    },
    listReconciliations: async (req) => {
      const r = await listReconciliations(d.messages, req);
      return { notifications: r.items.map(notificationToPb), nextPageToken: r.nextPageToken };
    },
    resolveReconciliation: async (req, ctx) => ({
      notification: notificationToPb(
        await resolveReconciliation(d, {
          notificationId: req.notificationId,
          resolution: RESOLUTIONS[req.resolution],
          note: req.note,
          actor: auditActor(ctx, req.actor),
        }),
      ),
    }),
    listInbox: async (req) => {
      const r = await listInbox(d.messages, req);
      return { messages: r.items.map(inboxToPb), unreadCount: r.unreadCount, nextPageToken: r.nextPageToken };
    },
    markInboxRead: async (req) => markInboxRead(d.messages, d.clock, req),
    recordEngagement: async (req) => {
      const r = await recordEngagement(d, {
        notificationId: req.notificationId,
        kind: kindFromPb(req.kind),
        occurredAt: req.occurredAt ? timestampDate(req.occurredAt) : undefined,
      });
      return {
        bestHour: r.best.hour ?? -1,
        hasBestHour: r.best.hour !== null,
        explanation: r.best.explanation,
        recorded: r.recorded,
      };
    },
  });
}
