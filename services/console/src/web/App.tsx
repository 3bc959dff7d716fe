/** The shell: session, language toggle, navigation by role and hash routes. */
import { useEffect, useState } from "react";
import { api, setCsrfToken } from "./api";
import type { Lang } from "./format";
import { LangContext, text } from "./i18n";
import { CasePage } from "./pages/CasePage";
import { CustomerView } from "./pages/CustomerView";
import { Login } from "./pages/Login";
import { Policies } from "./pages/Policies";
import { Portfolio } from "./pages/Portfolio";
import { Queue } from "./pages/Queue";
import { Sessions } from "./pages/Sessions";
import { Supervisor } from "./pages/Supervisor";

/** The signed-in user as /api/session returns it. */
export interface Me {
  user: {
    username: string;
    role: "agent" | "supervisor" | "risk_manager" | "admin";
    agentId?: string;
    displayName: string;
  };
  navigation: string[];
  /** The session's CSRF token, sent back on every state-changing request. */
  csrfToken: string;
}

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

const NAV_TEXT = {
  queue: "navQueue",
  supervisor: "navSupervisor",
  portfolio: "navPortfolio",
  policies: "navPolicies",
  sessions: "navSessions",
} as const;

export function App() {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem("lang") === "en" ? "en" : "zh-CN"));
  const [me, setMeState] = useState<Me | null | undefined>(undefined);
  const setMe = (m: Me | null) => {
    setCsrfToken(m?.csrfToken);
    setMeState(m);
  };
  const [businessDate, setBusinessDate] = useState<string>("");
  const hash = useHash();
  const setLang = (l: Lang) => {
    localStorage.setItem("lang", l);
    document.documentElement.lang = l;
    setLangState(l);
  };
  useEffect(() => {
    api<Me>("GET", "/api/session").then(
      (m) => {
        setCsrfToken(m.csrfToken);
        setMeState(m);
      },
      () => setMeState(null),
    );
  }, []);
  useEffect(() => {
    if (me)
      api("GET", "/api/business-date").then(
        (r) => setBusinessDate(r.businessDate ?? ""),
        () => setBusinessDate(""),
      );
  }, [me]);
  const t = (k: Parameters<typeof text>[1]) => text(lang, k);

  let page = null;
  if (me) {
    const [, route = "", id = ""] = hash.replace(/^#/, "").split("/");
    const home = me.navigation[0] ?? "queue";
    const r = route || home;
    if (r === "cases" && id) page = <CasePage caseId={decodeURIComponent(id)} me={me} />;
    else if (r === "accounts" && id) page = <CustomerView accountId={decodeURIComponent(id)} />;
    else if (r === "queue") page = <Queue me={me} />;
    else if (r === "supervisor") page = <Supervisor />;
    else if (r === "portfolio") page = <Portfolio />;
    else if (r === "policies") page = <Policies />;
    else if (r === "sessions") page = <Sessions />;
    else page = <p>{t("notFound")}</p>;
  }

  return (
    <LangContext.Provider value={{ lang, setLang }}>
      <header className="top">
        <span className="brand">{t("appTitle")}</span>
        {me ? (
          <nav>
            {me.navigation.map((n) => (
              <a
                key={n}
                href={`#/${n}`}
                className={hash.startsWith(`#/${n}`) ? "active" : ""}
                data-testid={`nav-${n}`}
              >
                {n === "queue" && me.user.role === "supervisor"
                  ? t("navQueueAll")
                  : t(NAV_TEXT[n as keyof typeof NAV_TEXT] ?? "navQueue")}
              </a>
            ))}
          </nav>
        ) : (
          <nav />
        )}
        <span className="right">
          {me && businessDate ? (
            <span className="muted" data-testid="business-date">
              {t("businessDate")} {businessDate}
            </span>
          ) : null}
          {me ? (
            <span data-testid="whoami">
              {me.user.displayName} · {t(`role_${me.user.role}`)}
            </span>
          ) : null}
          <button
            type="button"
            className="link"
            data-testid="lang-toggle"
            onClick={() => setLang(lang === "en" ? "zh-CN" : "en")}
          >
            {t("language")}
          </button>
          {me ? (
            <button
              type="button"
              className="link"
              data-testid="sign-out"
              onClick={() =>
                api("DELETE", "/api/session").finally(() => {
                  setMe(null);
                  window.location.hash = "";
                })
              }
            >
              {t("signOut")}
            </button>
          ) : null}
        </span>
      </header>
      <main>{me === undefined ? null : me === null ? <Login onSignedIn={setMe} /> : page}</main>
    </LangContext.Provider>
  );
}
