// The operators' page: the live feed of routing-log lines, the deployments' state and the last 15 minutes
// in three small charts. Hand-written, no framework: it is served by the gateway and works offline.
//
// The admin key is asked for once and kept in this tab's sessionStorage; it is sent in the Authorization
// header only (never in a URL). The feed is read with fetch() and a stream reader because EventSource cannot
// send headers. Every value from the gateway reaches the page as text (textContent), never as markup.

const KEY_STORAGE = "gateway-admin-key";
const MAX_ROWS = 500; // rows kept on the page: the oldest go first
const DEPLOYMENTS_EVERY_MS = 4000;
const STATS_EVERY_MS = 5000;
const FEED_RETRY_MS = 3000;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

class KeyRefused extends Error {}

const state = {
  key: null,
  running: false,
  feedAbort: null,
  timers: [],
  rows: new Map(), // request_id -> its row, so lines sent again after a reconnect are not shown twice
  dropped: 0,
};

// ---------------------------------------------------------------- calls to the gateway

function authHeaders() {
  return state.key ? { authorization: `Bearer ${state.key}` } : {};
}

async function getJson(path) {
  const response = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  if (response.ok) return response.json();
  throw await refusal(response);
}

async function refusal(response) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not the gateway's JSON: the status says enough
  }
  if (response.status === 401) {
    return new KeyRefused("The gateway refused this key: it is not one of its admin keys (GATEWAY_ADMIN_KEYS).");
  }
  if (response.status === 403 && error.code === "admin_key_required") {
    return new KeyRefused("This is a client key. The operators' page takes an admin key (GATEWAY_ADMIN_KEYS).");
  }
  if (response.status === 403) {
    return new KeyRefused(error.message || "The gateway's admin endpoints are off.");
  }
  return new Error(`The gateway answered ${response.status}${error.message ? `: ${error.message}` : ""}`);
}

// ---------------------------------------------------------------- signing in and out

function showSignIn(message) {
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("key-message").textContent = message || "";
  $("admin-key").focus();
}

async function connect(key) {
  state.key = key;
  setConnection("off", "connecting…");
  let deployments;
  try {
    deployments = await getJson("deployments");
  } catch (error) {
    state.key = null;
    setConnection("refused", "not connected");
    showSignIn(error instanceof KeyRefused ? error.message : `Could not reach the gateway: ${error.message}`);
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  $("admin-key").value = "";
  start(deployments);
}

function start(deployments) {
  state.running = true;
  drawDeployments(deployments);
  readFeed();
  refreshStats();
  state.timers.push(setInterval(refreshDeployments, DEPLOYMENTS_EVERY_MS));
  state.timers.push(setInterval(refreshStats, STATS_EVERY_MS));
}

function stop() {
  state.running = false;
  state.timers.forEach(clearInterval);
  state.timers = [];
  if (state.feedAbort) state.feedAbort.abort();
  state.feedAbort = null;
  // Nothing seen with this key stays on the page for whoever signs in next.
  $("feed-rows").replaceChildren();
  state.rows.clear();
  state.dropped = 0;
  $("feed-note").textContent = "";
  $("feed-count").textContent = "newest first";
  $("feed-empty").hidden = false;
}

function signOut(message) {
  stop();
  state.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  setConnection(message ? "refused" : "off", "not connected");
  showSignIn(message);
}

function setConnection(kind, text) {
  const element = $("connection");
  element.dataset.state = kind;
  element.textContent = text;
}

// A data call refused mid-way (the gateway restarted with other keys): back to the form, saying why. Any
// other failure is shown where the data would have been, and the next refresh tries again.
function onError(error, show) {
  if (error instanceof KeyRefused) signOut(error.message);
  else show(`not updated: ${error.message}`);
}

// ---------------------------------------------------------------- the live feed

async function readFeed() {
  const abort = new AbortController();
  state.feedAbort = abort;
  try {
    const response = await fetch("feed", { headers: authHeaders(), cache: "no-store", signal: abort.signal });
    if (!response.ok) throw await refusal(response);
    setConnection("live", "live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        onEvent(pending.slice(0, end));
        pending = pending.slice(end + 2);
      }
    }
  } catch (error) {
    if (abort.signal.aborted) return;
    if (error instanceof KeyRefused) {
      signOut(error.message);
      return;
    }
  }
  if (!state.running || abort.signal.aborted) return;
  // The gateway stopped or the connection broke: the feed comes back with the lines the gateway kept.
  setConnection("retrying", "reconnecting…");
  setTimeout(() => state.running && state.feedAbort === abort && readFeed(), FEED_RETRY_MS);
}

function onEvent(block) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a comment: the opening one or a keep-alive
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return;
  const payload = JSON.parse(data.join("\n"));
  if (kind === "dropped") {
    state.dropped += payload.dropped;
    $("feed-note").textContent = `${state.dropped} lines skipped: the page fell behind`;
  } else if (kind === "message") {
    addRow(payload);
  }
}

function outcome(status) {
  if (status === 429) return "limited";
  if (status >= 200 && status < 400) return "ok";
  if (status >= 400 && status < 500) return "warn";
  return "bad";
}

function addRow(line) {
  const id = line.request_id;
  if (state.rows.has(id)) return;
  const row = element("details", `feed-row ${outcome(line.status)}`);
  row.dataset.requestId = id;
  const summary = element("summary");
  const tokens = tokenCounts(line);
  const attempts = (line.attempts || []).length;
  summary.append(
    element("span", "time", clockTime(line.time)),
    element("span", "status", line.status == null ? "–" : String(line.status)),
    element("span", "key", line.key_id || "–"),
    element("span", "endpoint", line.endpoint || "–"),
    routeCell(line),
    element("span", "num", `${count(tokens[0])} / ${count(tokens[1])}`),
    element("span", "num", milliseconds(line.latency_ms)),
    element("span", `num tries${attempts > 1 ? " more" : ""}`, attempts ? String(attempts) : "–"),
  );
  summary.title = line.error ? `${line.status} ${line.error}` : `request ${id}`;
  row.append(summary);
  row.addEventListener("toggle", () => {
    if (row.open && row.childElementCount === 1) row.append(detail(line));
  });
  const rows = $("feed-rows");
  rows.prepend(row);
  state.rows.set(id, row);
  while (rows.childElementCount > MAX_ROWS) {
    const oldest = rows.lastElementChild;
    state.rows.delete(oldest.dataset.requestId);
    oldest.remove();
  }
  $("feed-empty").hidden = true;
  $("feed-count").textContent = `${rows.childElementCount} shown, newest first`;
}

function routeCell(line) {
  const cell = element("span", "route");
  cell.append(
    element("span", "requested", line.model_requested || "–"),
    element("span", "arrow", " → "),
    element("span", "model", line.model || "–"),
    element("span", "at", " @ "),
    element("span", "deployment", line.deployment || "–"),
  );
  if (line.error) cell.append(element("span", "dim", `  ${line.error}`));
  cell.title = cell.textContent;
  return cell;
}

function detail(line) {
  const box = element("div", "detail");
  if (line.path && line.path.length) {
    const steps = element("ol");
    for (const step of line.path) {
      const item = element("li");
      item.append(
        element("span", "dim", `${step.node}: `),
        element("span", "ask", `${step.ask.endsWith("?") ? step.ask : `${step.ask}?`} `),
        element("span", step.answer === "yes" ? "yes" : "no", step.answer + (step.by_default ? " (default)" : "")),
        element("span", "why", step.reason ? ` — ${step.reason}` : ""),
      );
      steps.append(item);
    }
    box.append(section("Decision path", steps));
  } else {
    box.append(section("Decision path", element("span", "dim", "none: the client named the model, or the request ended before routing")));
  }
  if (line.notes && line.notes.length) {
    const notes = element("ol");
    line.notes.forEach((note) => notes.append(element("li", "", note)));
    box.append(section("Notes", notes));
  }
  if (line.attempts && line.attempts.length) {
    const table = element("table");
    const head = element("tr");
    ["#", "model", "deployment", "status", "error", "latency", "waited"].forEach((name) => head.append(element("th", "", name)));
    table.append(head);
    line.attempts.forEach((attempt, index) => {
      const row = element("tr");
      [
        String(index + 1),
        attempt.model || "–",
        attempt.deployment || "–",
        attempt.status == null ? "–" : String(attempt.status),
        attempt.error || "",
        milliseconds(attempt.latency_ms),
        attempt.waited_ms ? milliseconds(attempt.waited_ms) : "",
      ].forEach((text) => row.append(element("td", "", text)));
      table.append(row);
      if (attempt.changes && attempt.changes.length) {
        const changes = element("tr");
        const cell = element("td", "dim", `adapted: ${attempt.changes.join("; ")}`);
        cell.colSpan = 7;
        changes.append(cell);
        table.append(changes);
      }
    });
    box.append(section("Attempts", table));
  }
  const facts = element("div", "facts");
  const fact = (name, value) => {
    const shown = element("span", "", `${name} `);
    shown.append(element("b", "", String(value)));
    facts.append(shown);
  };
  fact("request", line.request_id);
  fact("answer", line.stream ? "streamed" : "whole");
  if (line.bytes_out != null) fact("bytes", count(line.bytes_out));
  // Only the plain values: nested details (token breakdowns) are in the log line itself.
  for (const [name, value] of Object.entries(line.usage || {})) {
    if (typeof value === "number") fact(name.replace(/_tokens$/, " tokens"), value);
  }
  for (const [name, value] of Object.entries(line.features || {})) {
    if (value !== null && value !== "" && typeof value !== "object") fact(name.replaceAll("_", " "), value);
  }
  box.append(section("Request", facts));
  return box;
}

function section(title, content) {
  const part = element("div");
  part.append(element("h3", "", title), content);
  return part;
}

// ---------------------------------------------------------------- deployments

async function refreshDeployments() {
  try {
    drawDeployments(await getJson("deployments"));
  } catch (error) {
    onError(error, (text) => ($("deployments-note").textContent = text));
  }
}

function drawDeployments(answer) {
  const body = $("deployment-rows");
  const rows = answer.data.map((deployment) => {
    const row = element("tr");
    const name = element("td", "id");
    name.append(element("span", "", deployment.id), element("span", "model", deployment.model));
    name.title = `${deployment.id} (${deployment.resource}, priority ${deployment.priority}, weight ${deployment.weight})`;
    const health = element("td");
    health.append(badge(deployment));
    row.append(
      name,
      health,
      meter(deployment.limit_tokens, deployment.remaining_tokens),
      meter(deployment.limit_requests, deployment.remaining_requests),
      element("td", "num", deployment.recent_requests ? percent(deployment.recent_error_rate) : "–"),
    );
    if (deployment.last_error) row.title = `last error: ${deployment.last_error}`;
    return row;
  });
  body.replaceChildren(...rows);
  const open = answer.data.filter((deployment) => deployment.state !== "healthy").length;
  $("deployments-note").textContent = `${answer.data.length} deployments${open ? `, ${open} not healthy` : ""}`;
}

const STATE_NAMES = { healthy: "healthy", cooling_down: "cooling down", open: "breaker open", half_open: "probing" };

function badge(deployment) {
  const shown = element("span", `badge ${deployment.state}`, STATE_NAMES[deployment.state] || deployment.state);
  if (deployment.until) {
    const seconds = Math.max(0, Math.round((Date.parse(deployment.until) - Date.now()) / 1000));
    shown.textContent += ` · ${seconds}s`;
  }
  return shown;
}

// Used = limit - remaining; without a limit of the gateway's own, what Azure said is left (tokens only).
function meter(limit, remaining) {
  const cell = element("td", "meter");
  if (!limit) {
    const label = element("div", "label", remaining == null ? "no limit" : `${count(remaining)} left`);
    if (remaining != null) label.title = "No budget of the gateway's own: what Azure said is left (x-ratelimit-remaining-tokens)";
    cell.append(label);
    return cell;
  }
  const used = Math.max(0, limit - (remaining == null ? limit : remaining));
  const share = Math.min(1, used / limit);
  const bar = element("div", "bar");
  const fill = element("div", `fill${share >= 0.95 ? " full" : share >= 0.75 ? " high" : ""}`);
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  bar.append(fill);
  cell.append(bar, element("div", "label", `${count(used)} / ${count(limit)}`));
  return cell;
}

// ---------------------------------------------------------------- charts over the last 15 minutes

async function refreshStats() {
  let stats;
  try {
    stats = await getJson("stats");
  } catch (error) {
    onError(error, (text) => headline("chart-requests", text));
    return;
  }
  // The bucket still filling is drawn once it has a few seconds in it: a rate over less jumps about.
  const buckets = stats.buckets.filter((bucket) => bucket.seconds >= 2);
  const x = (bucket) => bucket.start + stats.bucket_seconds / 2;
  const span = [stats.now - stats.window_seconds, stats.now];
  const total = stats.total;
  const perSecond = (value) => (total.seconds > 0 ? value / total.seconds : 0);

  drawChart($("chart-requests"), span, [
    { points: buckets.map((b) => [x(b), b.requests / b.seconds]), kind: "area-a" },
    { points: buckets.map((b) => [x(b), b.requests / b.seconds]), kind: "line-a" },
    { points: buckets.map((b) => [x(b), b.errors / b.seconds]), kind: "line-err" },
  ], (value) => value.toFixed(value < 10 ? 2 : 0));
  headline("chart-requests", `${perSecond(total.requests).toFixed(2)}/s · ${total.requests ? percent(total.errors / total.requests) : "0%"} errors`);

  drawChart($("chart-latency"), span, [
    { points: buckets.filter((b) => b.p50_ms != null).map((b) => [x(b), b.p50_ms]), kind: "line-a" },
    { points: buckets.filter((b) => b.p95_ms != null).map((b) => [x(b), b.p95_ms]), kind: "line-b" },
  ], milliseconds);
  headline("chart-latency", total.p50_ms == null ? "–" : `p50 ${milliseconds(total.p50_ms)} · p95 ${milliseconds(total.p95_ms)}`);

  drawChart($("chart-tokens"), span, [
    { points: buckets.map((b) => [x(b), (b.tokens_in * 60) / b.seconds]), kind: "area-a" },
    { points: buckets.map((b) => [x(b), (b.tokens_in * 60) / b.seconds]), kind: "line-a" },
    { points: buckets.map((b) => [x(b), (b.tokens_out * 60) / b.seconds]), kind: "line-b" },
  ], count);
  headline("chart-tokens", `${count(perSecond(total.tokens_in) * 60)} in · ${count(perSecond(total.tokens_out) * 60)} out`);
}

function headline(chartId, text) {
  $(chartId).querySelector("[data-role=headline]").textContent = text;
}

// Drawn at the SVG's own pixel size, so lines and labels are never stretched.
function drawChart(figure, [from, to], series, format) {
  const svg = figure.querySelector("svg");
  const width = Math.max(120, svg.clientWidth);
  const height = Math.max(60, svg.clientHeight);
  const pad = { left: 4, right: 4, top: 14, bottom: 16 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const highest = Math.max(0, ...series.flatMap((one) => one.points.map((point) => point[1])));
  const top = niceCeiling(highest);
  const sx = (t) => pad.left + ((t - from) / (to - from)) * (width - pad.left - pad.right);
  const sy = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const parts = [];
  for (const fraction of [0, 0.5, 1]) {
    const y = sy(top * fraction);
    parts.push(svgElement("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
  }
  parts.push(svgElement("text", { class: "axis", x: pad.left, y: pad.top - 4 }, highest > 0 ? format(top) : ""));
  parts.push(svgElement("text", { class: "axis", x: pad.left, y: height - 3 }, "−15 min"));
  parts.push(svgElement("text", { class: "axis", x: width - pad.right, y: height - 3, "text-anchor": "end" }, "now"));
  for (const one of series) {
    const points = one.points.filter((point) => point[0] >= from);
    if (!points.length) continue;
    const line = points.map((point) => `${sx(point[0]).toFixed(1)},${sy(point[1]).toFixed(1)}`);
    if (one.kind.startsWith("area")) {
      const base = sy(0).toFixed(1);
      const first = sx(points[0][0]).toFixed(1);
      const last = sx(points[points.length - 1][0]).toFixed(1);
      parts.push(svgElement("polygon", { class: one.kind, points: `${first},${base} ${line.join(" ")} ${last},${base}` }));
    } else if (points.length === 1) {
      const [cx, cy] = line[0].split(",");
      parts.push(svgElement("circle", { class: one.kind, cx, cy, r: 2 }));
    } else {
      parts.push(svgElement("polyline", { class: one.kind, points: line.join(" ") }));
    }
  }
  svg.replaceChildren(...parts);
}

function niceCeiling(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

// ---------------------------------------------------------------- small helpers

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text != null) made.textContent = text;
  return made;
}

function svgElement(tag, attributes, text) {
  const made = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, String(value));
  if (text != null) made.textContent = text;
  return made;
}

// Chat reports prompt/completion tokens, the Responses API and realtime input/output; without Azure's usage,
// the gateway's own count of the prompt.
function tokenCounts(line) {
  const usage = line.usage || {};
  const tokensIn = usage.prompt_tokens ?? usage.input_tokens;
  const tokensOut = usage.completion_tokens ?? usage.output_tokens;
  if (tokensIn != null || tokensOut != null) return [tokensIn, tokensOut];
  return [line.prompt_tokens, null];
}

function clockTime(iso) {
  const moment = iso ? new Date(iso) : null;
  if (!moment || Number.isNaN(moment.getTime())) return "–";
  const two = (n) => String(n).padStart(2, "0");
  return `${two(moment.getHours())}:${two(moment.getMinutes())}:${two(moment.getSeconds())}.${String(moment.getMilliseconds()).padStart(3, "0")}`;
}

function milliseconds(value) {
  if (value == null) return "–";
  if (value >= 10000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function count(value) {
  if (value == null) return "–";
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

function percent(fraction) {
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.1 ? 1 : 0)}%`;
}

// ---------------------------------------------------------------- start

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  connect($("admin-key").value.trim());
});
$("sign-out").addEventListener("click", () => signOut());

const kept = sessionStorage.getItem(KEY_STORAGE);
if (kept !== null) connect(kept);
else showSignIn();
