/**
 * `GET /`: a one-page live view that uses the same /ws protocol as any client,
 * so a person can see that events arrive without any other tool.
 */
export const homePage = (sites: readonly string[]): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pulse</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:48rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:right}td:first-child,th:first-child{text-align:left}
#status{color:#666}</style></head>
<body><h1>Pulse</h1>
<p>Site <select id="site">${sites.map((s) => `<option>${s.replace(/[<>&"]/g, "")}</option>`).join("")}</select>
last <select id="days"><option>7</option><option selected>30</option><option>90</option></select> days
<span id="status">connecting…</span></p>
<table><thead><tr><th>date</th><th>pageviews</th><th>visitors</th><th>sessions</th></tr></thead><tbody id="rows"></tbody></table>
<p>Send events with <code>POST /collect</code>; query over the <code>/ws</code> WebSocket (see docs/websocket-protocol.md).</p>
<script>
const $ = (id) => document.getElementById(id);
// The page's own ?token= (from \`pulse token create\`) opens the socket.
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + location.search);
let n = 0, rows = [];
const ask = () => {
  const to = new Date(), from = new Date(to.getTime() - ($("days").value - 1) * 864e5);
  rows = [];
  ws.send(JSON.stringify({ op: "query", id: "q" + (++n), query: { site: $("site").value, from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), metrics: ["pageviews", "visitors", "sessions"], dimensions: ["date"] } }));
};
ws.onopen = () => { ask(); setInterval(ask, 5000); };
ws.onclose = () => { $("status").textContent = "disconnected"; };
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id !== "q" + n) return;
  if (msg.type === "rows") rows.push(...msg.rows);
  if (msg.type === "error") $("status").textContent = msg.error.message;
  if (msg.type === "done") {
    $("rows").innerHTML = rows.map((r) => "<tr><td>" + r.date + "</td><td>" + r.pageviews + "</td><td>" + r.visitors + "</td><td>" + r.sessions + "</td></tr>").join("");
    $("status").textContent = "updated " + new Date().toLocaleTimeString() + " (" + msg.elapsedMs + " ms)";
  }
};
["site", "days"].forEach((id) => $(id).onchange = ask);
</script></body></html>`;
