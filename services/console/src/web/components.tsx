/** Small building blocks of the pages. */
import { type ReactNode, useCallback, useEffect, useState } from "react";
import { ApiError, api } from "./api";
import { useI18n } from "./i18n";

/** A titled panel. */
export function Card(props: { title: ReactNode; children: ReactNode; testId?: string; wide?: boolean }) {
  return (
    <section className={props.wide ? "card wide" : "card"} data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A definition list of label → value pairs. */
export function Facts(props: { rows: [ReactNode, ReactNode][] }) {
  return (
    <dl className="facts">
      {props.rows.map(([k, v], i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: static rows and cells, never reordered
        <div key={i}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A table, or "none" when there are no rows. */
export function Table(props: {
  head: ReactNode[];
  rows: ReactNode[][];
  testId?: string;
  rowTestId?: string;
}) {
  const { t } = useI18n();
  if (props.rows.length === 0) return <p className="muted">{t("none")}</p>;
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          {props.head.map((h, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: static rows and cells, never reordered
            <th key={i}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: static rows and cells, never reordered
          <tr key={i} data-testid={props.rowTestId}>
            {r.map((c, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: static rows and cells, never reordered
              <td key={j}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** An API error shown with its code and, for refusals, the rule (ErrorInfo reason) and citation. */
export function ErrorBox(props: { error: unknown; testId?: string }) {
  const { t } = useI18n();
  if (!props.error) return null;
  const e = props.error;
  if (e instanceof ApiError) {
    const rule = e.body.metadata?.rule ?? e.body.reason;
    return (
      <div
        className="error"
        role="alert"
        data-testid={props.testId ?? "error"}
        data-status={e.status}
        data-reason={e.body.reason ?? ""}
      >
        <strong>
          {e.status === 403 ? t("forbidden") : e.status === 404 ? t("notFound") : t("error")} ({e.status}{" "}
          {e.body.code})
        </strong>
        {rule && e.body.code === "FAILED_PRECONDITION" ? (
          <div>
            {t("refusedBy")}: <code data-testid="refusal-rule">{rule}</code>
          </div>
        ) : e.body.reason ? (
          <div>
            <code>{e.body.reason}</code>
          </div>
        ) : null}
        <div>{e.body.message}</div>
        {e.body.metadata?.citation ? <div className="muted">{e.body.metadata.citation}</div> : null}
        {e.body.violations?.map((v) => (
          <div key={v.field}>
            <code>{v.field}</code>: {v.description}
          </div>
        ))}
      </div>
    );
  }
  return (
    <div className="error" role="alert" data-testid={props.testId ?? "error"}>
      {String((e as Error).message ?? e)}
    </div>
  );
}

/** Loads JSON from the API; `reload` fetches again. */
export function useApi<T>(path: string | null) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const load = useCallback(() => {
    if (!path) return;
    setState((s) => ({ ...s, loading: true }));
    api<T>("GET", path).then(
      (data) => setState({ data, loading: false }),
      (error) => setState({ error, loading: false }),
    );
  }, [path]);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

/** Shows loading, an error, or the content. */
export function Loaded<T>(props: {
  state: { data?: T; error?: unknown; loading: boolean };
  children: (d: T) => ReactNode;
}) {
  const { t } = useI18n();
  if (props.state.error) return <ErrorBox error={props.state.error} testId="page-error" />;
  if (!props.state.data) return <p className="muted">{t("loading")}</p>;
  return <>{props.children(props.state.data)}</>;
}
