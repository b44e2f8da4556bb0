// Progressive enhancement of the sign-up page: without this script every
// form posts and the server answers with a page; with it, the forms post
// JSON to the same endpoints, errors appear without a reload (with the
// server's wait counted down), and the page moves to the next step in place.
"use strict";

function message(text) {
  const m = document.getElementById("message");
  if (!m) return;
  m.textContent = text;
  m.hidden = !text;
}

// swapMain replaces the page's card with the server's current one.
async function swapMain() {
  const res = await fetch("/", { headers: { Accept: "text/html" } });
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  document.getElementById("main").replaceWith(doc.getElementById("main"));
  document.title = doc.title;
  enhance();
  const focus = document.querySelector("#main [autofocus]");
  if (focus) focus.focus();
}

// countdown keeps the resend button disabled while the cooldown runs.
function countdown(button) {
  let wait = parseInt(button.dataset.wait || "0", 10);
  const label = button.textContent.replace(/ \(.*\)$/, "");
  const tick = () => {
    if (!document.body.contains(button)) return;
    if (wait <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = label + " (" + wait + " s)";
    wait--;
    setTimeout(tick, 1000);
  };
  tick();
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const action = (event.submitter && event.submitter.getAttribute("formaction")) || form.getAttribute("action");
  const body = Object.fromEntries(new FormData(form));
  message("");
  form.classList.add("busy");
  try {
    const res = await fetch(action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (res.ok) {
      await swapMain();
      return;
    }
    let problem = {};
    try { problem = await res.json(); } catch (e) { /* not a problem document */ }
    message(problem.detail || problem.title || "Something went wrong. Please try again.");
  } catch (e) {
    message("The server cannot be reached. Check your connection and try again.");
  } finally {
    form.classList.remove("busy");
  }
}

function enhance() {
  document.querySelectorAll("#main form").forEach((f) => f.addEventListener("submit", submit));
  const resend = document.getElementById("resend");
  if (resend) countdown(resend);
}

enhance();
