import {
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import type { ReactNode } from "react";
import { Bar, Line } from "react-chartjs-2";
import { Card, Facts, Loaded, useApi } from "../components";
import { fenToYuanNumber, formatFen, formatRate, shortEnum } from "../format";
import { useI18n } from "../i18n";

ChartJS.register(CategoryScale, LinearScale, BarElement, LineElement, PointElement, Tooltip, Legend);
ChartJS.defaults.animation = false;

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
const BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"];

/** A chart panel; `points` (how many data points it draws) is exposed for tests and "no data" notes. */
function ChartPanel(props: { id: string; title: string; points: number; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <section className="card chart" data-testid={`chart-${props.id}`} data-points={props.points}>
      <h2>{props.title}</h2>
      {props.points === 0 ? <p className="muted">{t("noData")}</p> : null}
      <div className="chart-body">{props.children}</div>
    </section>
  );
}

const yuanTick = { callback: (v: string | number) => `¥${Number(v).toLocaleString("en-US")}` };
const pctTick = { callback: (v: string | number) => `${Number(v)}%` };

/** The portfolio dashboard for risk managers and supervisors. */
export function Portfolio() {
  const { t, e } = useI18n();
  const state = useApi<any>("/api/portfolio");
  return (
    <Loaded state={state}>
      {(d) => {
        const p = d.portfolio ?? { buckets: [], rollRates: [], trend: [], expectedInflows: [] };
        const s = d.collections ?? { strategies: [] };
        const n = d.notifications ?? { rows: [] };
        const buckets = (p.buckets as any[]).map((b) => ({
          ...b,
          short: shortEnum(b.bucket, "DELINQUENCY_BUCKET_"),
        }));
        const rolls = (p.rollRates as any[]).map((r) => ({
          ...r,
          from: shortEnum(r.fromBucket, "DELINQUENCY_BUCKET_"),
          to: shortEnum(r.toBucket, "DELINQUENCY_BUCKET_"),
        }));
        const rollFrom = BUCKETS.filter((b) => rolls.some((r) => r.from === b));
        const rollTo = BUCKETS.filter((b) => rolls.some((r) => r.to === b) || rollFrom.includes(b));
        const channels = [...new Set((n.rows as any[]).map((r) => r.channel))];
        const statuses = [...new Set((n.rows as any[]).map((r) => r.status))];
        return (
          <div className="grid" data-testid="portfolio">
            <Card title={`${t("portfolio")} · ${p.asOfDate ?? ""}`} wide>
              <Facts
                rows={[
                  [t("activeAccounts"), p.activeAccounts],
                  [t("outstanding"), formatFen(p.outstandingFen)],
                  [t("delinquencyRate"), formatRate(p.delinquencyRate)],
                  [t("chargedOff"), formatFen(p.chargedOffFen)],
                  [t("chargeOffRate"), formatRate(p.chargeOffRate)],
                  [t("cureRate"), formatRate(p.cureRate)],
                  [t("collected"), formatFen(s.collectedFen)],
                ]}
              />
              {d.unavailable?.length ? (
                <p className="error">
                  {t("unavailable")}: {d.unavailable.join(", ")}
                </p>
              ) : null}
            </Card>
            <ChartPanel id="delinquency" title={t("chartDelinquency")} points={buckets.length}>
              <Bar
                data={{
                  labels: buckets.map((b) => b.short),
                  datasets: [
                    {
                      label: t("delinquencyRate"),
                      data: buckets.map((b) => b.balanceRate * 100),
                      backgroundColor: buckets.map((b) => (b.short === "M0" ? "#16a34a" : "#dc2626")),
                    },
                  ],
                }}
                options={{
                  responsive: true,
                  maintainAspectRatio: false,
                  scales: { y: { ticks: pctTick, beginAtZero: true } },
                  plugins: {
                    tooltip: {
                      callbacks: {
                        afterLabel: (c) =>
                          `${buckets[c.dataIndex]?.accounts} ${t("accounts")} · ${formatFen(buckets[c.dataIndex]?.balanceFen)}`,
                      },
                    },
                  },
                }}
              />
            </ChartPanel>
            <ChartPanel id="roll-rate" title={t("chartRollRate")} points={rolls.length}>
              <table className="matrix" data-testid="roll-matrix">
                <thead>
                  <tr>
                    <th>
                      {t("from")} \ {t("to")}
                    </th>
                    {rollTo.map((b) => (
                      <th key={b}>{b}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rollFrom.map((f) => (
                    <tr key={f}>
                      <th>{f}</th>
                      {rollTo.map((to) => {
                        const r = rolls.find((x) => x.from === f && x.to === to);
                        const rate = r?.rate ?? 0;
                        return (
                          <td
                            key={to}
                            style={{ background: r ? `rgba(220, 38, 38, ${0.1 + rate * 0.7})` : undefined }}
                            title={r ? `${r.accounts} ${t("accounts")}` : ""}
                          >
                            {r ? formatRate(rate) : ""}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </ChartPanel>
            <ChartPanel id="charge-off" title={t("chartChargeOff")} points={p.trend.length}>
              <Line
                data={{
                  labels: p.trend.map((x: any) => x.date),
                  datasets: [
                    {
                      label: t("chargedOff"),
                      data: p.trend.map((x: any) => fenToYuanNumber(x.chargedOffFen)),
                      borderColor: PALETTE[1],
                      backgroundColor: PALETTE[1],
                      yAxisID: "y",
                    },
                    {
                      label: t("delinquencyRate"),
                      data: p.trend.map((x: any) => x.delinquencyRate * 100),
                      borderColor: PALETTE[0],
                      backgroundColor: PALETTE[0],
                      yAxisID: "y1",
                    },
                  ],
                }}
                options={{
                  responsive: true,
                  maintainAspectRatio: false,
                  scales: {
                    y: { beginAtZero: true, ticks: yuanTick },
                    y1: {
                      position: "right",
                      beginAtZero: true,
                      ticks: pctTick,
                      grid: { drawOnChartArea: false },
                    },
                  },
                }}
              />
            </ChartPanel>
            <ChartPanel id="inflows" title={t("chartInflows")} points={p.expectedInflows.length}>
              <Bar
                data={{
                  labels: p.expectedInflows.map((x: any) => x.date),
                  datasets: [
                    {
                      label: t("amountDue"),
                      data: p.expectedInflows.map((x: any) => fenToYuanNumber(x.amountFen)),
                      backgroundColor: PALETTE[2],
                    },
                  ],
                }}
                options={{
                  responsive: true,
                  maintainAspectRatio: false,
                  scales: { y: { beginAtZero: true, ticks: yuanTick } },
                  plugins: {
                    tooltip: {
                      callbacks: { label: (c) => formatFen(p.expectedInflows[c.dataIndex]?.amountFen) },
                    },
                  },
                }}
              />
            </ChartPanel>
            <ChartPanel id="notifications" title={t("chartNotifications")} points={n.rows.length}>
              <Bar
                data={{
                  labels: channels.map((c) => e(c)),
                  datasets: statuses.map((st, i) => ({
                    label: e(st),
                    data: channels.map(
                      (c) => (n.rows as any[]).find((r) => r.channel === c && r.status === st)?.count ?? 0,
                    ),
                    backgroundColor: PALETTE[i % PALETTE.length],
                  })),
                }}
                options={{
                  responsive: true,
                  maintainAspectRatio: false,
                  scales: {
                    x: { stacked: true },
                    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
                  },
                }}
              />
            </ChartPanel>
            <ChartPanel id="strategies" title={t("chartStrategies")} points={s.strategies.length}>
              <Bar
                data={{
                  labels: [t("cureRate"), t("promiseKeptRate"), `${t("contactsPerCase")} ×10%`],
                  datasets: (s.strategies as any[]).map((x, i) => ({
                    label: `${x.strategyId} (${x.cases} ${t("cases")}, ${formatFen(x.collectedFen)})`,
                    data: [x.cureRate * 100, x.promiseKeptRate * 100, x.contactsPerCase * 10],
                    backgroundColor: PALETTE[i % PALETTE.length],
                  })),
                }}
                options={{
                  responsive: true,
                  maintainAspectRatio: false,
                  scales: { y: { beginAtZero: true, ticks: pctTick } },
                }}
              />
            </ChartPanel>
          </div>
        );
      }}
    </Loaded>
  );
}
