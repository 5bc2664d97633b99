// The annotation page. Every text from the server is inserted with textContent, never
// as HTML, so whatever a message contains is shown as typed.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : "invalid input";
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}

function showError(error) { $("error").textContent = error ? String(error.message || error) : ""; }

function item(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function render(dialogue) {
  current = dialogue;
  $("dialogue").hidden = false;
  $("title").textContent = `Dialogue ${dialogue.id}`;
  $("history").replaceChildren(...dialogue.turns.map((turn) =>
    item("li", `${turn.role === "client" ? "Client" : "Counselor"}: ${turn.content}`, turn.role)));
  const waiting = dialogue.candidates.length === 2;
  $("choose").hidden = !waiting;
  $("say").hidden = waiting;
  $("candidates").replaceChildren(...dialogue.candidates.map((text, index) => {
    const label = item("label", "", "candidate");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "choice";
    radio.value = String(index + 1);
    radio.required = true;
    label.append(radio, item("span", text));
    return label;
  }));
}

async function loadList() {
  const list = await api("GET", "/api/dialogues");
  $("dialogues").replaceChildren(...list.map((d) => {
    const li = document.createElement("li");
    const link = item("a", `Dialogue ${d.id} (${d.turns} turns)`);
    link.addEventListener("click", () => open(d.id));
    li.append(link);
    return li;
  }));
}

async function open(id) {
  try { showError(); render(await api("GET", `/api/dialogues/${id}`)); } catch (e) { showError(e); }
}

function signedIn(me) {
  $("login").hidden = true;
  $("work").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = me.name + (me.admin ? " (admin)" : "");
  loadList().catch(showError);
}

function busy(form, on) { for (const b of form.querySelectorAll("button")) b.disabled = on; }

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    showError();
    signedIn(await api("POST", "/api/login", { name: form.get("name"), password: form.get("password") }));
  } catch (e) { showError(e); }
});

$("logout").addEventListener("click", async () => {
  await api("POST", "/api/logout").catch(() => null);
  location.reload();
});

$("new").addEventListener("click", async () => {
  try { showError(); render(await api("POST", "/api/dialogues")); await loadList(); } catch (e) { showError(e); }
});

$("say").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  busy(form, true);
  try {
    showError();
    render(await api("POST", `/api/dialogues/${current.id}/messages`, { text: form.elements.text.value }));
    form.reset();
    await loadList();
  } catch (e) { showError(e); } finally { busy(form, false); }
});

$("choose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const picked = event.target.querySelector("input[name=choice]:checked");
  try {
    showError();
    render(await api("POST", `/api/dialogues/${current.id}/choice`, { choice: Number(picked.value) }));
    await loadList();
  } catch (e) { showError(e); }
});

api("GET", "/api/me").then(signedIn, () => { $("login").hidden = false; });
