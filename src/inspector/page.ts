/**
 * The inspector's page: one HTML document, its style sheet (`/app.css`) and script (`/app.js`)
 * served by the inspector itself, no framework and nothing fetched from elsewhere (a trading host
 * is often offline). Data is only ever inserted as text, never as HTML; the one value the server
 * writes into the document, the title, is escaped.
 */

/** The page, with `title` shown in its header. */
export function inspectorPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>execution-handler inspector</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>execution-handler <span class="muted">state inspector</span></h1>
  <span id="title" class="muted">${escapeHtml(title)}</span>
  <span class="spacer"></span>
  <span><b id="total">0</b> orders</span>
  <span><b id="anomalies">0</b> anomalies</span>
  <span id="live" class="pill off">connecting…</span>
</header>
<main>
  <section id="chart-box">
    <h2>Order state chart <span class="muted">(from the machine definition; click a state to filter)</span></h2>
    <svg id="chart" viewBox="0 0 820 330" role="img" aria-label="order state chart"></svg>
  </section>
  <section id="list-box">
    <div class="bar">
      <input id="q" type="search" placeholder="filter: OrderID, venue id, directive, symbol" autocomplete="off">
      <span id="filters"></span>
      <span class="spacer"></span>
      <button id="prev" type="button">‹ prev</button>
      <span id="range" class="muted">0 of 0</span>
      <button id="next" type="button">next ›</button>
    </div>
    <table id="orders">
      <thead><tr><th>OrderID</th><th>status</th><th>symbol</th><th>side</th><th>type</th><th class="n">quantity</th><th class="n">filled</th><th class="n">leaves</th><th class="n">avg price</th><th class="n">fills</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="detail-box">
    <h2>Order <span id="detail-id" class="muted">(choose one in the list)</span></h2>
    <div id="detail"></div>
  </section>
</main>
</body>
</html>`;
}

/** `text` safe as HTML text or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
