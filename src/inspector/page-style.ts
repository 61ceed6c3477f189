/**
 * The inspector page's style sheet, served as `/app.css`: a file of its own, not an inline block,
 * so the Content-Security-Policy can forbid inline style.
 */

/** The page's CSS. */
export const INSPECTOR_STYLE = `
:root { font: 13px/1.4 system-ui, sans-serif; color: #1d2330; background: #f4f5f7; }
body { margin: 0; }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 16px; background: #1d2330; color: #fff; }
header h1 { font-size: 16px; margin: 0; }
.muted { color: #8a93a6; font-weight: normal; }
.spacer { flex: 1; }
.pill { padding: 1px 8px; border-radius: 9px; font-size: 12px; }
.pill.on { background: #2e7d32; } .pill.off { background: #8a3b12; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); grid-template-rows: auto 1fr; gap: 12px; padding: 12px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px; min-width: 0; overflow-x: auto; }
#chart-box { grid-column: 1; } #list-box { grid-column: 1; } #detail-box { grid-column: 2; grid-row: 1 / span 2; overflow: auto; max-height: calc(100vh - 70px); }
h2 { font-size: 13px; margin: 0 0 8px; }
svg text { font: 12px system-ui, sans-serif; }
.node rect { stroke: #1d2330; stroke-width: 1; cursor: pointer; }
.node text { pointer-events: none; }
.node.sel rect { stroke-width: 3; }
.node .count { font-weight: bold; font-size: 15px; }
.edge { fill: none; stroke: #b4bccb; stroke-width: 1.1; }
.edge:hover { stroke: #1d2330; stroke-width: 2; }
.bar { display: flex; gap: 8px; align-items: center; margin-bottom: 6px; }
#q { flex: 0 1 320px; padding: 4px 6px; }
.chip { background: var(--c, #e4e8f0); border-radius: 9px; padding: 1px 8px; cursor: pointer; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f4; white-space: nowrap; }
th { font-weight: 600; color: #55607a; } .n { text-align: right; font-variant-numeric: tabular-nums; }
#orders tbody tr { cursor: pointer; } #orders tbody tr:hover { background: #f0f4ff; } #orders tbody tr.sel { background: #dfe8ff; }
.st { padding: 0 6px; border-radius: 4px; font-size: 12px; background: var(--c, #eef0f4); }
.node rect { fill: var(--c, #eef0f4); }
.s-PENDING { --c: #fff3c4; } .s-OPEN { --c: #d7ecff; } .s-PARTIALLY_FILLED { --c: #c9e7ff; } .s-FILLED { --c: #cdeccd; }
.s-MODIFY_PENDING { --c: #d4f0e8; } .s-CANCEL_PENDING { --c: #ffe0c2; } .s-CANCELLED { --c: #e2e2e2; }
.s-REJECTED { --c: #f8c9c9; } .s-EXPIRED { --c: #e8dcf5; } .s-TIMED_OUT { --c: #f6b98f; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 10px; }
dt { color: #55607a; } dd { margin: 0; word-break: break-all; }
#timeline td { white-space: normal; vertical-align: top; } #timeline td:first-child { white-space: nowrap; }
.k-FILL { color: #2e7d32; } .k-ANOMALY { color: #b3261e; } .k-MODIFY { color: #00695c; }
#values { width: auto; margin-bottom: 10px; } #values td.changed { font-weight: 600; }
#modifications { margin-bottom: 10px; } #modifications td { white-space: normal; vertical-align: top; }
`;
