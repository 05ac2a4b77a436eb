// sourcebook web: live progress (server-sent events) and citation clicks. No framework, no build step.
"use strict";

function liveProgress() {
  const summary = document.getElementById("summary");
  if (!summary || summary.dataset.status !== "running") return;
  const rid = summary.dataset.rid;
  const list = document.getElementById("progress");
  const status = document.getElementById("status");
  const tokens = document.getElementById("tokens");
  const es = new EventSource("/runs/" + encodeURIComponent(rid) + "/events");
  es.addEventListener("trace", (msg) => {
    const e = JSON.parse(msg.data);
    const li = document.createElement("li");
    li.textContent = e.text;
    if (e.error) li.className = "error";
    list.appendChild(li);
  });
  es.addEventListener("status", (msg) => {
    const s = JSON.parse(msg.data);
    status.textContent = s.status;
    status.className = "badge " + s.status;
    tokens.textContent = Number(s.tokens || 0).toLocaleString("en");
    if (s.status !== "running") {
      es.close();
      setTimeout(() => window.location.reload(), 400);
    }
  });
  es.onerror = () => { if (status.textContent !== "running") es.close(); };
}

function claimBefore(link) {
  // the sentence the citation closes: text of its block up to the link, last sentence of it
  const block = link.closest("p, li, td, th, blockquote") || link.parentElement;
  let text = "";
  const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (link.contains(node)) break;
    if (link.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING) break;
    text += node.textContent;
  }
  text = text.replace(/\[\d+\]/g, "").trim();
  const parts = text.split(/(?<=[。！？!?]|\.\s)/).map((s) => s.trim()).filter((s) => s.length > 1);
  return parts.length ? parts[parts.length - 1] : text;
}

function citations() {
  const report = document.getElementById("report");
  const panel = document.getElementById("cite-panel");
  if (!report || !panel) return;
  report.addEventListener("click", async (ev) => {
    const link = ev.target.closest("a.cite");
    if (!link) return;
    ev.preventDefault();
    report.querySelectorAll("a.cite.active").forEach((a) => a.classList.remove("active"));
    link.classList.add("active");
    const url = "/runs/" + encodeURIComponent(report.dataset.rid) + "/cite/" + encodeURIComponent(link.dataset.ref) +
      "?claim=" + encodeURIComponent(claimBefore(link));
    panel.setAttribute("aria-busy", "true");
    const resp = await fetch(url, { credentials: "same-origin" });
    panel.innerHTML = await resp.text();  // server-rendered, every string escaped
    panel.removeAttribute("aria-busy");
    const mark = panel.querySelector("mark.aligned");
    if (mark) mark.scrollIntoView({ block: "center" });
  });
}

document.addEventListener("DOMContentLoaded", () => { liveProgress(); citations(); });
