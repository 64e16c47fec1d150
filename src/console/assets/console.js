// Tribune's moderators' console: a page over the admin API (see docs/console.md).
//
// Rules this file keeps:
// - Every text readers wrote goes on the page as text (el() makes text nodes; no innerHTML).
// - The access token lives in memory only; the refresh token in this tab's sessionStorage,
//   so a reload keeps the moderator signed in and closing the tab forgets it. Requests carry
//   `Authorization: Bearer`, never cookies (`credentials: "omit"`).
// - Refresh tokens are single-use: one refresh at a time, shared by every waiting request.
// - The page hides what the role cannot do; the API decides.
"use strict";

(() => {
  const API = "/api/v1";
  const STAFF = ["moderator", "admin", "editor"];
  const POLL_MS = 10000;
  const auth = { access: null, refresh: null, expiresAt: 0, user: null, refreshing: null };
  let strings = {};
  let lang = "en";
  let poll = null;
  let keys = null; // the current page's keyboard handler

  // ---- strings -------------------------------------------------------------------------

  async function loadStrings() {
    const wanted = (navigator.languages || [navigator.language || "en"])
      .map((l) => l.slice(0, 2).toLowerCase())
      .find((l) => l === "ru" || l === "en");
    lang = wanted || "en";
    document.documentElement.lang = lang;
    const res = await fetch(lang + ".json", { credentials: "omit" });
    strings = await res.json();
  }

  // t("key", {name: value}): the string with {name} filled in; plural forms are objects keyed
  // by Intl.PluralRules' categories (one, few, many, other) and take {n}.
  function t(key, vars = {}) {
    let s = strings[key];
    if (s && typeof s === "object") {
      s = s[new Intl.PluralRules(lang).select(vars.n)] ?? s.other;
    }
    s = s ?? key;
    for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  }

  // ---- the DOM -------------------------------------------------------------------------

  // el("tag", {attr: value, onclick: fn}, children...): strings and numbers become text nodes.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function toast(text) {
    let box = document.getElementById("toast");
    if (!box) {
      box = el("div", { id: "toast", role: "status" });
      document.body.append(box);
    }
    box.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.textContent = ""), 3000);
  }

  // ---- the API -------------------------------------------------------------------------

  class Failure extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || "HTTP " + status);
      this.status = status;
      this.problem = problem;
    }
  }

  function keep(session) {
    auth.access = session.access_token;
    auth.refresh = session.refresh_token;
    auth.expiresAt = Date.now() + session.expires_in * 1000;
    if (session.user) auth.user = session.user;
    sessionStorage.setItem("tribune.refresh", auth.refresh);
  }

  function forget() {
    auth.access = auth.refresh = auth.user = null;
    sessionStorage.removeItem("tribune.refresh");
  }

  function refresh() {
    if (!auth.refreshing) {
      auth.refreshing = (async () => {
        const res = await fetch(API + "/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: auth.refresh }),
          credentials: "omit",
        });
        if (!res.ok) {
          forget();
          signIn(t("signin.expired"));
          throw new Failure(401, null);
        }
        keep(await res.json());
      })().finally(() => (auth.refreshing = null));
    }
    return auth.refreshing;
  }

  // api("GET", "/admin/reports", body, {etag}) -> {data, etag} or {unchanged: true}
  async function api(method, path, body, options = {}) {
    if (auth.refresh && Date.now() > auth.expiresAt - 30000) await refresh();
    const headers = { Accept: "application/json" };
    if (auth.access) headers.Authorization = "Bearer " + auth.access;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (options.etag) headers["If-None-Match"] = options.etag;
    const res = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    if (res.status === 401 && auth.refresh && !options.again) {
      await refresh();
      return api(method, path, body, { ...options, again: true });
    }
    if (res.status === 401) {
      forget();
      signIn(t("signin.expired"));
      throw new Failure(401, null);
    }
    if (res.status === 304) return { unchanged: true };
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new Failure(res.status, data);
    return { data, etag: res.headers.get("ETag") };
  }

  // Runs an action of a button: disabled meanwhile, the API's refusal shown.
  async function act(button, work, done) {
    if (button) button.disabled = true;
    try {
      await work();
      if (done) toast(done);
    } catch (e) {
      if (e.status !== 401) toast(t("error", { detail: e.message }));
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---- roles ---------------------------------------------------------------------------

  const canModerate = () => ["moderator", "admin"].includes(auth.user && auth.user.role);
  const isAdmin = () => auth.user && auth.user.role === "admin";

  // ---- signing in and out --------------------------------------------------------------

  function signIn(message) {
    stopPage();
    const error = el("p", { class: "error", role: "alert" }, message || "");
    const login = el("input", { name: "login", autocomplete: "username", required: true });
    const password = el("input", {
      name: "password", type: "password", autocomplete: "current-password", required: true,
    });
    const form = el("form", { class: "stack", id: "signin" },
      el("label", {}, t("signin.login"), login),
      el("label", {}, t("signin.password"), password),
      el("button", { class: "primary", type: "submit" }, t("signin.submit")),
      error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const res = await fetch(API + "/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ login: login.value, password: password.value }),
        credentials: "omit",
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        error.textContent = res.status === 401 ? t("signin.wrong") : t("error", {
          detail: (body && body.detail) || res.status,
        });
        return;
      }
      if (!STAFF.includes(body.user.role)) {
        // Not for them: end the session just made.
        await fetch(API + "/auth/logout", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: body.refresh_token }),
          credentials: "omit",
        });
        error.textContent = t("signin.not_staff");
        return;
      }
      keep(body);
      password.value = "";
      route();
    });
    document.getElementById("app").replaceChildren(
      el("main", { class: "signin" }, el("h1", {}, t("title")), form));
    login.focus();
  }

  async function signOut() {
    const token = auth.refresh;
    forget();
    if (token) {
      await fetch(API + "/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
        credentials: "omit",
      }).catch(() => {});
    }
    location.hash = "";
    signIn(t("signin.signed_out"));
  }

  // ---- the frame and the router --------------------------------------------------------

  const PAGES = [
    { path: "reports", label: "nav.reports", show: canModerate, draw: reportsPage },
    { path: "pending", label: "nav.pending", show: canModerate, draw: pendingPage },
    { path: "discussions", label: "nav.discussions", show: () => true, draw: discussionsPage },
    { path: "users", label: "nav.users", show: canModerate, draw: usersPage },
    { path: "audit", label: "nav.audit", show: canModerate, draw: auditPage },
  ];

  function stopPage() {
    clearInterval(poll);
    poll = null;
    keys = null;
  }

  function route() {
    if (!auth.access) return signIn();
    stopPage();
    const [path, arg] = location.hash.replace(/^#\/?/, "").split("/");
    const visible = PAGES.filter((p) => p.show());
    const page = visible.find((p) => p.path === path) || visible[0];
    const view = el("main", { id: "view" });
    const nav = el("nav", { class: "pages", "aria-label": t("nav.label") },
      visible.map((p) => el("a", {
        href: "#/" + p.path, "aria-current": p === page ? "page" : null,
      }, t(p.label))));
    const header = el("header", { class: "top" },
      el("span", { class: "brand" }, t("title")),
      nav,
      el("span", { class: "meta" }, auth.user.username + " · " + t("role." + auth.user.role)),
      el("button", { id: "signout", onclick: signOut }, t("signout")));
    document.getElementById("app").replaceChildren(header, view);
    page.draw(view, arg && decodeURIComponent(arg)).catch((e) => {
      if (e.status !== 401) view.append(el("p", { class: "error" }, t("error", { detail: e.message })));
    });
  }

  document.addEventListener("keydown", (event) => {
    if (!keys || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    keys(event);
  });

  // j/k move the selection through `items`; `actions` maps keys to what they do to it.
  function keyboard(list, actions) {
    keys = (event) => {
      const cards = [...list.querySelectorAll("li.card")];
      if (!cards.length) return;
      let i = cards.findIndex((c) => c.classList.contains("selected"));
      if (event.key === "j" || event.key === "k") {
        i = event.key === "j" ? Math.min(i + 1, cards.length - 1) : Math.max(i - 1, 0);
        cards.forEach((c, n) => c.classList.toggle("selected", n === i));
        cards[i].scrollIntoView({ block: "nearest" });
        cards[i].focus();
        event.preventDefault();
      } else if (actions[event.key] && i >= 0) {
        actions[event.key](cards[i]);
        event.preventDefault();
      }
    };
  }

  function selectFirst(list) {
    const first = list.querySelector("li.card");
    if (first && !list.querySelector("li.card.selected")) first.classList.add("selected");
  }

  function author(a) {
    return a ? a.display_name + " (@" + a.username + ")" : t("deleted_account");
  }

  function commentBlock(c) {
    return [
      el("div", { class: "meta" }, author(c.author), " · ", when(c.created_at),
        c.status !== "visible" ? el("span", { class: "badge warn" }, t("status." + c.status)) : null),
      el("div", { class: "text" }, c.body ?? t("no_text")),
    ];
  }

  // ---- Reports -------------------------------------------------------------------------

  async function reportsPage(view) {
    const list = el("ul", { class: "plain", id: "reports" });
    view.append(el("h1", {}, t("reports.title")), el("p", { class: "hint" }, t("reports.keys")), list);
    let etag = null;
    const resolve = (card, action) => {
      const button = card.querySelector("button[data-action=" + action + "]");
      return act(button, async () => {
        await api("POST", "/admin/reports/" + card.dataset.report + "/resolve", { action });
        const next = card.nextElementSibling || card.previousElementSibling;
        card.remove();
        if (next) next.classList.add("selected");
        if (!list.children.length) list.append(el("p", { class: "muted" }, t("reports.empty")));
        etag = null;
      }, t("reports.done." + action));
    };
    const load = async () => {
      const res = await api("GET", "/admin/reports?status=open&limit=50", undefined, { etag });
      if (res.unchanged) return;
      etag = res.etag;
      const selected = list.querySelector("li.selected");
      const keep = selected && selected.dataset.comment;
      list.replaceChildren(...(res.data.items.length ? res.data.items.map((item) => {
        const card = el("li", {
          class: "card" + (String(item.comment.id) === keep ? " selected" : ""),
          tabindex: "-1", "data-report": item.reports[0].id, "data-comment": item.comment.id,
        },
          el("div", { class: "meta" },
            el("a", { href: "#/discussions/" + item.discussion_id }, item.discussion_title),
            " · ", t("reports.count", { n: item.report_count })),
          item.parent ? el("blockquote", { class: "parent" },
            el("div", { class: "meta" }, t("reports.in_reply_to", { who: author(item.parent.author) })),
            el("div", { class: "text" }, item.parent.body ?? t("no_text"))) : null,
          commentBlock(item.comment),
          el("ul", { class: "meta" }, item.reports.map((r) =>
            el("li", {}, "@" + r.reporter_username + ": ", r.reason, " · ", when(r.created_at)))),
          el("div", { class: "actions" },
            el("button", { "data-action": "dismiss", onclick: () => resolve(card, "dismiss") }, t("reports.dismiss")),
            el("button", { "data-action": "hide", onclick: () => resolve(card, "hide") }, t("reports.hide")),
            el("button", { class: "danger", "data-action": "delete", onclick: () => resolve(card, "delete") }, t("reports.delete"))));
        return card;
      }) : [el("p", { class: "muted" }, t("reports.empty"))]));
      selectFirst(list);
    };
    keyboard(list, {
      d: (card) => resolve(card, "dismiss"),
      h: (card) => resolve(card, "hide"),
      x: (card) => resolve(card, "delete"),
    });
    await load();
    // New reports appear by themselves: a poll with the last ETag costs a 304 when nothing
    // changed.
    poll = setInterval(() => load().catch(() => {}), POLL_MS);
  }

  // ---- Pending comments ----------------------------------------------------------------

  async function pendingPage(view) {
    const list = el("ul", { class: "plain", id: "pending" });
    const bulk = (action) => act(null, async () => {
      const ids = [...list.querySelectorAll("input[type=checkbox]:checked")].map((c) => Number(c.value));
      if (!ids.length) return;
      await api("POST", "/admin/pending/resolve", { ids, action });
      await load();
    }, t("pending.done." + action));
    const decide = (card, action) => act(card.querySelector("button[data-action=" + action + "]"), async () => {
      await api("POST", "/admin/pending/" + card.dataset.comment + "/" + action);
      card.remove();
    }, t("pending.done." + action));
    view.append(el("h1", {}, t("pending.title")), el("p", { class: "hint" }, t("pending.keys")),
      el("div", { class: "actions" },
        el("button", { onclick: () => bulk("approve") }, t("pending.approve_selected")),
        el("button", { class: "danger", onclick: () => bulk("reject") }, t("pending.reject_selected"))),
      list);
    const load = async () => {
      const { data } = await api("GET", "/admin/pending?limit=100");
      list.replaceChildren(...(data.items.length ? data.items.map((item) => {
        const card = el("li", { class: "card", tabindex: "-1", "data-comment": item.comment.id },
          el("label", { class: "meta" }, el("input", { type: "checkbox", value: item.comment.id }), " ",
            el("a", { href: "#/discussions/" + item.discussion_id }, item.discussion_title),
            " · ", t("pending.reason." + item.reason), item.rule && item.rule.phrase ? ": " + item.rule.phrase : ""),
          commentBlock(item.comment),
          el("div", { class: "meta" }, t("pending.history", {
            published: item.author.published_comments, approved: item.author.approved, rejected: item.author.rejected,
          })),
          el("div", { class: "actions" },
            el("button", { "data-action": "approve", onclick: () => decide(card, "approve") }, t("pending.approve")),
            el("button", { class: "danger", "data-action": "reject", onclick: () => decide(card, "reject") }, t("pending.reject"))));
        return card;
      }) : [el("p", { class: "muted" }, t("pending.empty"))]));
      selectFirst(list);
    };
    keyboard(list, { a: (card) => decide(card, "approve"), r: (card) => decide(card, "reject") });
    await load();
  }

  // ---- Discussions ---------------------------------------------------------------------

  async function discussionsPage(view, id) {
    const q = el("input", { name: "q", type: "search", placeholder: t("discussions.search") });
    const list = el("ul", { class: "plain", id: "discussions" });
    const form = el("form", { class: "row", role: "search" },
      el("label", {}, t("discussions.title_contains"), q),
      el("button", { type: "submit" }, t("search")));
    view.append(el("h1", {}, t("discussions.title")), form, list);
    const show = (items) => list.replaceChildren(...(items.length ? items.map(discussionCard)
      : [el("p", { class: "muted" }, t("nothing_found"))]));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(null, async () => {
        const { data } = await api("GET", "/admin/discussions?q=" + encodeURIComponent(q.value));
        show(data.items);
      });
    });
    if (id) {
      const { data } = await api("GET", "/discussions/" + encodeURIComponent(id));
      show([data]);
    } else {
      const { data } = await api("GET", "/admin/discussions");
      show(data.items);
    }
  }

  function discussionCard(d) {
    const card = el("li", { class: "card", "data-discussion": d.id });
    const toggle = (flag, on, off) => el("button", {
      "data-action": d[flag] ? off : on,
      onclick: (event) => act(event.target, async () => {
        const { data } = await api("POST", "/admin/discussions/" + d.id + "/" + (d[flag] ? off : on));
        card.replaceWith(discussionCard(data));
      }, t("discussions.done." + (d[flag] ? off : on))),
    }, t("discussions." + (d[flag] ? off : on)));
    card.append(
      el("div", {}, el("strong", {}, d.title),
        d.locked ? el("span", { class: "badge warn" }, t("discussions.locked")) : null,
        d.pinned ? el("span", { class: "badge" }, t("discussions.pinned")) : null,
        d.premoderated ? el("span", { class: "badge" }, t("discussions.premoderated")) : null),
      el("div", { class: "meta" }, t("kind." + d.kind), " · ", t("replies", { n: d.replies }),
        " · ", t("discussions.active", { at: when(d.last_activity_at) })),
      canModerate() ? el("div", { class: "actions" },
        toggle("locked", "lock", "unlock"),
        toggle("pinned", "pin", "unpin"),
        d.kind === "topic" ? el("button", {
          class: "danger", "data-action": "delete",
          onclick: (event) => {
            if (!confirm(t("discussions.confirm_delete", { title: d.title }))) return;
            act(event.target, async () => {
              await api("DELETE", "/admin/discussions/" + d.id);
              card.remove();
            }, t("discussions.done.delete"));
          },
        }, t("discussions.delete")) : null) : null);
    return card;
  }

  // ---- Users ---------------------------------------------------------------------------

  async function usersPage(view, id) {
    if (id) return userPage(view, id);
    const q = el("input", { name: "q", type: "search", placeholder: t("users.search") });
    const rows = el("tbody");
    const form = el("form", { class: "row", role: "search" },
      el("label", {}, t("users.name_or_email"), q), el("button", { type: "submit" }, t("search")));
    view.append(el("h1", {}, t("users.title")), form, el("table", { id: "users" },
      el("thead", {}, el("tr", {}, ["users.username", "users.role", "users.comments", "users.state"]
        .map((k) => el("th", {}, t(k))))), rows));
    const load = async () => {
      const { data } = await api("GET", "/admin/users?limit=50&q=" + encodeURIComponent(q.value));
      rows.replaceChildren(...data.items.map((u) => el("tr", {},
        el("td", {}, el("a", { href: "#/users/" + u.id }, u.username), el("div", { class: "meta" }, u.email)),
        el("td", {}, t("role." + u.role)),
        el("td", {}, u.comments_count),
        el("td", {}, u.banned ? el("span", { class: "badge danger" }, t("users.banned")) : t("users.active")))));
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); act(null, load); });
    await load();
  }

  async function userPage(view, id) {
    const { data } = await api("GET", "/admin/users/" + encodeURIComponent(id));
    const u = data.user;
    const reason = el("input", { name: "reason", required: true, maxlength: 1000 });
    const days = el("select", { name: "duration" },
      [1, 7, 30].map((n) => el("option", { value: n }, t("users.days", { n }))),
      el("option", { value: "" }, t("users.forever")));
    const ban = el("form", { class: "row", id: "ban" },
      el("label", {}, t("users.ban_for"), days), el("label", {}, t("users.reason"), reason),
      el("button", { class: "danger", type: "submit" }, t("users.ban")));
    ban.addEventListener("submit", (event) => {
      event.preventDefault();
      const until = days.value ? new Date(Date.now() + days.value * 86400000).toISOString() : null;
      act(event.submitter, async () => {
        await api("POST", "/admin/users/" + u.id + "/ban", { reason: reason.value, until });
        route();
      }, t("users.done.ban"));
    });
    const role = el("select", { name: "role" },
      ["user", "editor", "moderator", "admin"].map((r) =>
        el("option", { value: r, selected: r === u.role }, t("role." + r))));
    view.append(el("div", {},
      el("p", {}, el("a", { href: "#/users" }, "← " + t("users.title"))),
      el("h1", {}, u.display_name + " (@" + u.username + ")"),
      el("p", { class: "meta" }, u.email, " · ", t("role." + u.role), " · ",
        t("users.joined", { at: when(u.created_at) }), " · ", t("users.comments_n", { n: u.comments_count })),
      u.banned
        ? el("div", { class: "card" },
          el("p", {}, el("span", { class: "badge danger" }, t("users.banned")), " ",
            u.banned_until ? t("users.until", { at: when(u.banned_until) }) : t("users.forever"),
            u.ban_reason ? " · " + u.ban_reason : ""),
          el("button", {
            id: "unban", onclick: (event) => act(event.target, async () => {
              await api("POST", "/admin/users/" + u.id + "/unban");
              route();
            }, t("users.done.unban")),
          }, t("users.unban")))
        : ban,
      isAdmin() ? el("form", { class: "row", id: "role" }, el("label", {}, t("users.role"), role),
        el("button", {
          type: "button", onclick: (event) => act(event.target, async () => {
            await api("PUT", "/admin/users/" + u.id + "/role", { role: role.value });
            route();
          }, t("users.done.role")),
        }, t("users.change_role"))) : null,
      el("h2", {}, t("users.recent_comments")),
      el("ul", { class: "plain" }, data.recent_comments.length
        ? data.recent_comments.map((c) => el("li", { class: "card" },
          el("div", { class: "meta" }, el("a", { href: "#/discussions/" + c.discussion_id }, t("users.in_discussion"))),
          commentBlock(c)))
        : el("p", { class: "muted" }, t("nothing_found"))),
      el("h2", {}, t("users.actions")),
      data.actions.length ? auditTable(data.actions) : el("p", { class: "muted" }, t("nothing_found"))));
  }

  // ---- Audit log -----------------------------------------------------------------------

  const ACTIONS = ["resolve", "hide", "restore", "delete", "dismiss", "lock", "unlock", "pin", "unpin",
    "premoderate", "ban", "unban", "role", "approve", "reject", "edit", "erase"];

  function auditTable(items) {
    return el("table", { class: "audit" },
      el("thead", {}, el("tr", {}, ["audit.when", "audit.who", "audit.what", "audit.target", "audit.why"]
        .map((k) => el("th", {}, t(k))))),
      el("tbody", {}, items.map((e) => el("tr", {},
        el("td", {}, when(e.created_at)),
        el("td", {}, e.actor_username ? "@" + e.actor_username : "—"),
        el("td", {}, t("action." + e.action) === "action." + e.action ? e.action : t("action." + e.action)),
        el("td", {}, ["user", "discussion"].includes(e.target_type)
          ? el("a", { href: "#/" + e.target_type + "s/" + e.target_id }, t("target." + e.target_type) + " " + e.target_id)
          : t("target." + e.target_type) + " " + e.target_id),
        el("td", {}, e.reason || "")))));
  }

  async function auditPage(view) {
    const who = el("input", { name: "moderator", placeholder: t("audit.username") });
    const action = el("select", { name: "action" }, el("option", { value: "" }, t("audit.any")),
      ACTIONS.map((a) => el("option", { value: a }, t("action." + a))));
    const since = el("input", { name: "since", type: "date" });
    const until = el("input", { name: "until", type: "date" });
    const form = el("form", { class: "row" },
      el("label", {}, t("audit.moderator"), who), el("label", {}, t("audit.action"), action),
      el("label", {}, t("audit.since"), since), el("label", {}, t("audit.until"), until),
      el("button", { type: "submit" }, t("audit.filter")));
    const result = el("div", { id: "audit" });
    view.append(el("h1", {}, t("audit.title")), form, result);
    const load = async () => {
      const params = new URLSearchParams({ limit: "100" });
      if (who.value.trim()) {
        const res = await fetch(API + "/users/" + encodeURIComponent(who.value.trim().replace(/^@/, "")),
          { credentials: "omit" });
        if (!res.ok) {
          result.replaceChildren(el("p", { class: "muted" }, t("audit.no_such_user")));
          return;
        }
        params.set("actor_id", (await res.json()).id);
      }
      if (action.value) params.set("action", action.value);
      if (since.value) params.set("since", new Date(since.value + "T00:00:00").toISOString());
      if (until.value) {
        // The end of that day, local time (a calendar day, whatever a clock change does).
        const end = new Date(until.value + "T00:00:00");
        end.setDate(end.getDate() + 1);
        params.set("until", end.toISOString());
      }
      const { data } = await api("GET", "/admin/audit-log?" + params);
      result.replaceChildren(data.items.length ? auditTable(data.items) : el("p", { class: "muted" }, t("nothing_found")));
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); act(null, load); });
    await load();
  }

  // ---- start ---------------------------------------------------------------------------

  window.addEventListener("hashchange", route);

  (async () => {
    await loadStrings();
    document.title = t("title");
    const stored = sessionStorage.getItem("tribune.refresh");
    if (!stored) return signIn();
    auth.refresh = stored;
    try {
      await refresh();
      if (!auth.user) auth.user = (await api("GET", "/me")).data;
      if (!STAFF.includes(auth.user.role)) return signOut();
      route();
    } catch (e) {
      signIn();
    }
  })();
})();
