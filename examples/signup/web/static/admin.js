// Keeps the dashboard live: every few seconds it fetches the page again and
// swaps the main part in, unless the reader is busy with a form. Without
// this script the page is the same, refreshed by hand.
"use strict";

async function refresh() {
  if (document.hidden || document.activeElement && document.activeElement.closest("form")) return;
  try {
    const res = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const next = doc.getElementById("main");
    if (next) document.getElementById("main").replaceWith(next);
  } catch (e) { /* try again at the next tick */ }
}

// A message after an action shows once: later refreshes drop it.
if (location.search.includes("done=")) {
  const u = new URL(location.href);
  u.searchParams.delete("done");
  history.replaceState(null, "", u);
}

setInterval(refresh, 2000);
