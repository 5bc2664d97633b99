// The annotation page: battles, rating tasks and (for admins) progress. Every text from the
// server is inserted with textContent, never as HTML, so whatever a message contains is
// shown as typed. The interface's words come from strings.<language>.json.
"use strict";

const $ = (id) => document.getElementById(id);
let words = {};
let me = null;
let current = null; // the battle dialogue shown
let item = null; // the rating item shown
let focused = 0; // the rubric item the keys rate

// -- words, errors, requests -------------------------------------------------------------

function say(key, values = {}) {
  const text = words[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function translate() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = say(node.dataset.i18n);
  document.title = say("title");
}

class Refused extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new Refused(0, "network", "network");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : "invalid input";
    throw new Refused(response.status, data.code, detail);
  }
  return data;
}

function showError(error) {
  $("notice").textContent = "";
  if (!error) {
    $("error").textContent = "";
    return;
  }
  const known = error.code && words.errors && words.errors[error.code];
  $("error").textContent = known || String(error.message || error);
  if (error.code === "signed_out" && me) location.reload();
}

function node(tag, text, className) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

function typing(event) {
  return ["TEXTAREA", "INPUT", "SELECT"].includes(event.target.tagName) && event.target.type !== "radio"
    && event.target.type !== "checkbox";
}

// -- views ---------------------------------------------------------------------------------

function show(view) {
  for (const main of document.querySelectorAll("main.view")) main.hidden = main.id !== view;
  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.classList.toggle("active", tab.dataset.view === view);
  }
  if (location.hash.slice(1).split("/")[0] !== view) history.replaceState(null, "", `#${view}`);
  showError();
  const load = { battles: loadDialogues, tasks: loadTasks, progress: loadProgress }[view];
  load().catch(showError);
}

for (const tab of document.querySelectorAll("#tabs button")) {
  tab.addEventListener("click", () => show(tab.dataset.view));
}

// -- battles --------------------------------------------------------------------------------

function turnLine(turn) {
  return say("line", { speaker: say(turn.role === "client" ? "client" : "counselor"), text: turn.content });
}

function render(dialogue) {
  current = dialogue;
  $("dialogue").hidden = false;
  $("title").textContent = say("dialogue", { id: dialogue.id });
  $("history").replaceChildren(...dialogue.turns.map((turn) => node("li", turnLine(turn), turn.role)));
  const choosing = dialogue.candidates.length === 2;
  $("choose").hidden = !choosing;
  $("say").hidden = choosing;
  $("choose").reset();
  $("candidates").replaceChildren(...dialogue.candidates.map((text, index) => {
    const label = node("label", undefined, "candidate");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "choice";
    radio.value = String(index + 1);
    radio.required = true;
    const head = node("strong", say("reply", { n: index + 1 }));
    head.append(" ", node("kbd", String(index + 1)));
    label.append(radio, head, node("span", text, "reply"));
    return label;
  }));
}

async function loadDialogues() {
  const list = await api("GET", "/api/dialogues");
  const items = list.map((d) => {
    const li = document.createElement("li");
    const key = d.turns === 1 ? "dialogue_one_turn" : "dialogue_turns";
    const link = node("a", say(key, { id: d.id, turns: d.turns }) + (d.waiting ? say("choice_pending") : ""));
    link.href = "#battles";
    link.addEventListener("click", (event) => { event.preventDefault(); open(d.id); });
    li.append(link);
    return li;
  });
  $("dialogues").replaceChildren(...(items.length ? items : [node("li", say("no_dialogues"), "hint")]));
}

async function open(id) {
  try { showError(); render(await api("GET", `/api/dialogues/${id}`)); } catch (e) { showError(e); }
}

let waitingTimer = null;

function waiting(on) {
  clearInterval(waitingTimer);
  $("waiting").hidden = !on;
  for (const control of $("say").querySelectorAll("button, textarea")) control.disabled = on;
  $("new").disabled = on;
  if (!on) return;
  const started = Date.now();
  const tick = () => {
    $("waiting-text").textContent = say("waiting", { seconds: Math.round((Date.now() - started) / 1000) });
  };
  tick();
  waitingTimer = setInterval(tick, 1000);
}

async function sendMessage() {
  const form = $("say");
  if (!form.reportValidity()) return;
  waiting(true);
  try {
    showError();
    render(await api("POST", `/api/dialogues/${current.id}/messages`, { text: form.elements.text.value }));
    form.reset();
    await loadDialogues();
  } catch (e) { showError(e); } finally { waiting(false); }
}

$("new").addEventListener("click", async () => {
  try { showError(); render(await api("POST", "/api/dialogues")); await loadDialogues(); } catch (e) { showError(e); }
});

$("say").addEventListener("submit", (event) => { event.preventDefault(); sendMessage(); });
$("say").elements.text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); sendMessage(); }
});

$("choose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const picked = event.target.querySelector("input[name=choice]:checked");
  if (!picked) return;
  const choice = /^\d$/.test(picked.value) ? Number(picked.value) : picked.value;
  try {
    showError();
    render(await api("POST", `/api/dialogues/${current.id}/choice`, { choice }));
    await loadDialogues();
    $("say").elements.text.focus();
  } catch (e) { showError(e); }
});

function battleKeys(event) {
  if ($("choose").hidden || typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  const values = { 1: "1", 2: "2", t: "tie", b: "both_bad" };
  const value = values[event.key.toLowerCase()];
  if (value) {
    const radio = $("choose").querySelector(`input[name=choice][value="${value}"]`);
    radio.checked = true;
    radio.focus();
    event.preventDefault();
  } else if (event.key === "Enter") {
    event.preventDefault();
    $("choose").requestSubmit();
  }
}

// -- rating tasks ---------------------------------------------------------------------------

function sessionStatus(entry) {
  if (entry.finished) return say("session_status_finished");
  if (!entry.rated) return say("session_status_new");
  return say("session_status_started", { rated: entry.rated, items: entry.items });
}

async function loadTasks() {
  const tasks = await api("GET", "/api/tasks");
  const blocks = tasks.map((task) => {
    const li = node("li", undefined, "task");
    li.append(node("strong", say("task_line", task)));
    const queue = node("ol", undefined, "queue");
    for (const entry of task.queue) {
      const link = node("a", say("session_line", { position: entry.position, status: sessionStatus(entry) }));
      link.href = `#tasks/${entry.item}`;
      link.className = entry.finished ? "finished" : entry.rated ? "started" : "new";
      link.addEventListener("click", (event) => { event.preventDefault(); openItem(entry.item); });
      const row = document.createElement("li");
      row.append(link);
      queue.append(row);
    }
    li.append(queue);
    return li;
  });
  $("task-list").replaceChildren(...(blocks.length ? blocks : [node("li", say("no_tasks"), "hint")]));
  const wanted = Number(location.hash.split("/")[1]);
  if (wanted) await openItem(wanted);
  return tasks;
}

async function openItem(id) {
  try {
    showError();
    renderItem(await api("GET", `/api/items/${id}`));
    history.replaceState(null, "", `#tasks/${id}`);
  } catch (e) { showError(e); }
}

function renderItem(view) {
  item = view;
  $("task-item").hidden = false;
  $("item-title").textContent = say("item_title", { task: view.task.name, position: view.position, assigned: view.assigned });
  $("reads").textContent = say(`reads_${view.rubric.reads}`);
  let replies = 0;
  $("transcript").replaceChildren(...view.turns.map((turn) => {
    const numbered = view.rubric.per_reply && turn.role === "counselor";
    const line = numbered ? say("numbered_line", { n: ++replies, line: turnLine(turn) }) : turnLine(turn);
    return node("li", line, turn.role);
  }));
  $("instructions-text").textContent = view.rubric.instructions;
  $("rubric-items").replaceChildren(...view.rubric.items.map((entry, index) => rubricItem(entry, index, view.values[entry.id])));
  const first = view.rubric.items.findIndex((entry) => view.values[entry.id] === undefined);
  focus(first < 0 ? 0 : first);
  status();
}

function rubricItem(entry, index, value) {
  const fieldset = node("fieldset", undefined, "rubric-item");
  fieldset.dataset.item = entry.id;
  fieldset.dataset.index = String(index);
  const legend = node("legend", legendOf(entry, index));
  fieldset.append(legend);
  const set = entry.level === "set";
  const worded = entry.options.some((option) => option.label.length > 3);
  const options = node("div", undefined, set ? "options set" : worded ? "options worded" : "options");
  for (const option of entry.options) {
    const label = node("label", undefined, "option");
    const input = document.createElement("input");
    input.type = set ? "checkbox" : "radio";
    input.name = entry.id;
    input.value = JSON.stringify(option.value);
    input.checked = set ? (value || []).includes(option.value) : value === option.value;
    input.addEventListener("change", () => changed(entry, fieldset));
    label.append(input, node("span", option.label, "value"));
    if (option.anchor) label.append(node("span", option.anchor, "anchor"));
    options.append(label);
  }
  fieldset.append(options);
  fieldset.addEventListener("click", () => focus(index));
  fieldset.classList.toggle("rated", value !== undefined);
  if (set) limitChoices(entry, fieldset);
  return fieldset;
}

// A per-reply item (``severity@3``) names its reply; a topic set its limit.
function legendOf(entry, index) {
  const [name, reply] = entry.id.split("@");
  if (reply) return say(`reply_${name}`, { n: reply });
  return entry.text ? `${index + 1}. ${entry.text}` : say("choose_up_to", { n: entry.max_choices });
}

function valueOf(entry, fieldset) {
  const checked = [...fieldset.querySelectorAll("input:checked")].map((input) => JSON.parse(input.value));
  return entry.level === "set" ? checked : checked[0];
}

function limitChoices(entry, fieldset) {
  const full = fieldset.querySelectorAll("input:checked").length >= entry.max_choices;
  for (const input of fieldset.querySelectorAll("input")) input.disabled = full && !input.checked;
}

function changed(entry, fieldset) {
  if (entry.level === "set") limitChoices(entry, fieldset);
  const value = valueOf(entry, fieldset);
  if (entry.level === "set" && !value.length) return 0;
  fieldset.classList.add("rated");
  const linked = noneTogether(entry, value);
  save({ [entry.id]: value, ...linked }, false);
  return Object.keys(linked).length;
}

// A severity of none means no kind of problem either (the rubric's none_together): the
// reply's other items follow it to none, so one key rates a safe reply.
function noneTogether(entry, value) {
  const [name, reply] = entry.id.split("@");
  const linked = item.rubric.none_together || [];
  if (value !== "none" || !linked.includes(name)) return {};
  const values = {};
  for (const other of linked) {
    const id = reply ? `${other}@${reply}` : other;
    const fieldset = document.querySelector(`#rubric-items fieldset[data-item="${id}"]`);
    const input = fieldset && [...fieldset.querySelectorAll("input")].find((i) => JSON.parse(i.value) === "none");
    if (!input || id === entry.id) continue;
    input.checked = true;
    fieldset.classList.add("rated");
    values[id] = "none";
  }
  return values;
}

let saving = Promise.resolve(null);

// Saves go one after another, so the last answer is the latest state.
function save(values, finish) {
  const id = item.item;
  saving = saving.then(async () => {
    try {
      showError();
      const saved = await api("PUT", `/api/items/${id}`, { values, finish });
      if (item && item.item === saved.item) item = saved;
      status(finish ? null : say("saved"));
      return saved;
    } catch (e) { showError(e); return null; }
  });
  return saving;
}

function missing() {
  return item.rubric.items.filter((entry) => item.values[entry.id] === undefined).map((entry) => entry.id);
}

function status(note) {
  const left = missing();
  const parts = [];
  if (note) parts.push(note);
  if (item.finished) parts.push(say("finished_note"));
  else if (left.length) parts.push(say("to_rate", { items: left.length }));
  const clashing = conflicts();
  if (clashing.length) parts.push(say("none_together", { replies: clashing.join(", ") }));
  $("rating-status").textContent = parts.join(" ");
}

// The replies whose none_together items disagree about none (the server refuses to
// finish such a session; a finished one being changed is warned here).
function conflicts() {
  const linked = item.rubric.none_together || [];
  const nones = {};
  for (const [id, value] of Object.entries(item.values)) {
    const [name, reply] = id.split("@");
    if (linked.includes(name)) (nones[reply] ||= new Set()).add(value === "none");
  }
  return Object.keys(nones).filter((reply) => nones[reply].size > 1);
}

function focus(index) {
  const fieldsets = [...document.querySelectorAll("#rubric-items fieldset")];
  if (!fieldsets.length) return;
  focused = Math.max(0, Math.min(index, fieldsets.length - 1));
  fieldsets.forEach((fieldset, i) => fieldset.classList.toggle("focused", i === focused));
}

async function finish() {
  const values = {};
  for (const entry of item.rubric.items) {
    const fieldset = document.querySelector(`#rubric-items fieldset[data-index="${item.rubric.items.indexOf(entry)}"]`);
    const value = valueOf(entry, fieldset);
    if (value !== undefined && !(Array.isArray(value) && !value.length)) values[entry.id] = value;
  }
  const saved = await save(values, true);
  if (!saved) return;
  const tasks = await api("GET", "/api/tasks");
  const task = tasks.find((t) => t.id === saved.task.id);
  const open = task ? task.queue.filter((entry) => !entry.finished) : [];
  const next = open.find((entry) => entry.position > saved.position) || open[0];
  history.replaceState(null, "", "#tasks");
  await loadTasks();
  if (next) await openItem(next.item);
  else { $("task-item").hidden = true; $("notice").textContent = say("all_done"); }
}

$("save").addEventListener("click", () => {
  const values = {};
  for (const [index, entry] of item.rubric.items.entries()) {
    const value = valueOf(entry, document.querySelector(`#rubric-items fieldset[data-index="${index}"]`));
    if (value !== undefined && !(Array.isArray(value) && !value.length)) values[entry.id] = value;
  }
  save(values, false);
});
$("rating").addEventListener("submit", (event) => { event.preventDefault(); finish(); });

function ratingKeys(event) {
  if ($("tasks").hidden || $("task-item").hidden || !item || typing(event)) return;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); finish(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "ArrowDown") { event.preventDefault(); focus(focused + 1); return; }
  if (event.key === "ArrowUp") { event.preventDefault(); focus(focused - 1); return; }
  const entry = item.rubric.items[focused];
  if (!entry || entry.level === "set" || !/^\d$/.test(event.key)) return;
  const option = entry.options[Number(event.key) - 1];
  if (!option) return;
  event.preventDefault();
  const fieldset = document.querySelector(`#rubric-items fieldset[data-index="${focused}"]`);
  const input = [...fieldset.querySelectorAll("input")].find((i) => JSON.parse(i.value) === option.value);
  input.checked = true;
  const alsoSet = changed(entry, fieldset); // a safe reply's kind, set with its severity
  focus(focused + 1 + alsoSet);
  document.querySelector("#rubric-items fieldset.focused")?.scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (event) => {
  if (!$("battles").hidden) battleKeys(event);
  else ratingKeys(event);
});

// -- progress (admins) ----------------------------------------------------------------------

async function loadProgress() {
  const tasks = await api("GET", "/api/progress");
  const blocks = tasks.map((task) => {
    const section = node("section", undefined, "progress");
    section.append(node("h3", say("progress_title", task)));
    const table = node("table");
    const head = node("tr");
    for (const key of ["annotator", "assigned", "started", "finished"]) head.append(node("th", say(key)));
    table.append(head);
    for (const a of task.annotators) {
      const row = node("tr");
      for (const value of [a.name, a.assigned, a.started, a.finished]) row.append(node("td", String(value)));
      table.append(row);
    }
    const link = node("a", say("export_ratings"));
    link.href = `/api/progress/${encodeURIComponent(task.name)}/export`;
    link.download = `${task.name}.jsonl`;
    section.append(table, link);
    return section;
  });
  $("progress-tables").replaceChildren(...(blocks.length ? blocks : [node("p", say("no_progress"), "hint")]));
}

// -- sign-in and start ----------------------------------------------------------------------

function signedIn(user) {
  me = user;
  $("login").hidden = true;
  $("logout").hidden = false;
  $("tabs").hidden = false;
  $("who").textContent = user.name + (user.admin ? ` (${say("admin")})` : "");
  document.querySelector('#tabs [data-view="progress"]').hidden = !user.admin;
  const battles = document.querySelector('#tabs [data-view="battles"]');
  const wanted = location.hash.slice(1).split("/")[0];
  const views = ["battles", "tasks", ...(user.admin ? ["progress"] : [])].filter((v) => v !== "battles" || !battles.hidden);
  show(views.includes(wanted) ? wanted : views[0]);
}

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
  location.hash = "";
  location.reload();
});

async function start() {
  const settings = await api("GET", "/api/settings");
  document.documentElement.lang = settings.language;
  words = await (await fetch(`/static/strings.${settings.language}.json`)).json();
  translate();
  document.querySelector('#tabs [data-view="battles"]').hidden = !settings.battles;
  document.body.classList.remove("loading");
  api("GET", "/api/me").then(signedIn, () => { $("login").hidden = false; });
}

start().catch((e) => { document.body.classList.remove("loading"); showError(e); });
