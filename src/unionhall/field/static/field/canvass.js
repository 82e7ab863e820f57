/* The canvass page (field/canvass_turf.html): one door at a time, on a phone, on a bad
 * connection.
 *
 * - The turf (doors, people, script, result codes) is fetched once as JSON and kept in
 *   localStorage, so a dropped connection later does not take the page with it.
 * - Each result gets its id (a UUID) the moment it is tapped and goes into a queue in
 *   localStorage, shared by every turf of this user on this phone.
 * - The queue is posted in batches whenever possible: right after a tap, on the
 *   `online` event, and on a timer that backs off. The server answers per result;
 *   accepted and duplicate ones leave the queue, refused ones are shown with the
 *   server's message. Anything unanswered stays and is sent again: the server knows
 *   the ids, so a resend after a lost answer never counts a result twice.
 *
 * Plain script, no framework, no build step: the CSP allows only our own files.
 */
(function () {
  "use strict";

  const root = document.getElementById("canvass");
  if (!root) {
    return;
  }
  const turfId = Number(root.dataset.turfId);
  const csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  const BATCH = 50;
  const RETRY_FIRST_MS = 3000;
  const RETRY_MAX_MS = 5 * 60 * 1000;
  const $ = (id) => document.getElementById(id);

  // -- storage: keys carry the user, so a shared phone never sends one canvasser's
  // results as another's. Reads go to localStorage each time because another tab
  // (another turf) may have changed the queue; memory is the fallback when storage
  // is unavailable (private mode, full).
  const prefix = "unionhall.canvass.v1." + root.dataset.user + ".";
  const memory = {};
  let storageBroken = false;

  function load(key, fallback) {
    if (!storageBroken) {
      try {
        const raw = localStorage.getItem(prefix + key);
        if (raw !== null) {
          return JSON.parse(raw);
        }
      } catch (e) {
        storageBroken = true;
      }
    }
    return key in memory ? memory[key] : fallback;
  }

  function save(key, value) {
    memory[key] = value;
    if (storageBroken) {
      return;
    }
    try {
      localStorage.setItem(prefix + key, JSON.stringify(value));
    } catch (e) {
      storageBroken = true;
      render();
    }
  }

  // -- state -------------------------------------------------------------------------
  let data = load("turf." + turfId, null); // the turf as last fetched
  let pos = load("pos." + turfId, null); // index of the door on screen
  let view = "door"; // "door" | "list" | "finished"
  let selected = null; // person id the result buttons apply to
  let visit = {}; // person ids recorded since arriving at this door
  let answers = {}; // question code -> response code, for the selected person
  let codes = {}; // activist code names toggled on
  let sending = false;
  let retryTimer = null;
  let retryDelay = RETRY_FIRST_MS;
  let problem = ""; // why the queue is not going out, if we know

  const recorded = () => load("recorded." + turfId, {}); // person id -> result tapped here

  function newId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    // Plain http (an embedded server on a union hall's network) has no randomUUID.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // The person's latest result: recorded on this phone, or on the server when newer.
  function latestOf(person, mine) {
    const here = mine[person.person_id];
    if (here && (!person.latest || Date.parse(here.at) >= Date.parse(person.latest.at))) {
      return here;
    }
    return person.latest;
  }

  const doorDone = (door, mine) => door.persons.some((p) => latestOf(p, mine));

  // The first door without a result after index `from`, wrapping round (-1: none).
  function nextOpen(from) {
    const mine = recorded();
    const n = data.doors.length;
    for (let i = 1; i <= n; i++) {
      const j = (from + i + n) % n;
      if (!doorDone(data.doors[j], mine)) {
        return j;
      }
    }
    return -1;
  }

  function codeOf(code) {
    return data.result_codes.find((c) => c.code === code);
  }

  // -- moving between doors ----------------------------------------------------------
  function goTo(index) {
    pos = Math.max(0, Math.min(index, data.doors.length - 1));
    save("pos." + turfId, pos);
    view = "door";
    visit = {};
    const mine = recorded();
    const door = data.doors[pos];
    const open = door.persons.find((p) => !latestOf(p, mine));
    selected = (open || door.persons[0]).person_id;
    resetScript();
    render();
    window.scrollTo(0, 0);
  }

  function advance() {
    const j = nextOpen(pos);
    if (j < 0) {
      view = "finished";
      render();
      window.scrollTo(0, 0);
    } else {
      goTo(j);
    }
  }

  function resetScript() {
    answers = {};
    codes = {};
    $("cv-note").value = "";
  }

  // -- recording ---------------------------------------------------------------------
  // Queue one result per person; answers, activist codes and the note go with the
  // selected person only, and answers only with a conversation (the server refuses
  // them otherwise).
  function record(persons, code) {
    const door = data.doors[pos];
    const at = new Date().toISOString();
    const mine = recorded();
    const queue = load("queue", []);
    for (const p of persons) {
      const forSelected = p.person_id === selected;
      const item = {
        client_id: newId(), person_id: p.person_id, turf_id: turfId, result_code: code.code,
        channel: "door", source: "canvass", contacted_at: at,
        responses: forSelected && code.contact ? Object.assign({}, answers) : {},
        activist_codes: forSelected && code.contact ? Object.keys(codes) : [],
        note: forSelected ? $("cv-note").value.trim() : "",
      };
      queue.push({ item: item, label: p.name + ", " + door.address, result: code.label });
      mine[p.person_id] = { code: code.code, label: code.label, at: at, client_id: item.client_id };
      visit[p.person_id] = true;
    }
    save("queue", queue);
    save("recorded." + turfId, mine);
    resetScript();
    const rest = door.persons.find((p) => !visit[p.person_id]);
    if (rest) {
      selected = rest.person_id; // others at this door still to record, or skip on
      render();
    } else {
      advance();
    }
    flush();
  }

  // -- sending -----------------------------------------------------------------------
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  // Drop a refused result from the turf's "recorded here" so its door is open again.
  function unrecord(item) {
    const key = "recorded." + item.turf_id;
    const mine = load(key, {});
    if (mine[item.person_id] && mine[item.person_id].client_id === item.client_id) {
      delete mine[item.person_id];
      save(key, mine);
    }
  }

  // Apply the server's answers to the queue. Returns why some results must wait for
  // another try ("" when none must).
  function settle(batch, answered) {
    const byId = {};
    for (const r of answered) {
      byId[r.client_id] = r;
    }
    const gone = {};
    const errors = load("errors", []);
    let wait = "";
    for (const entry of batch) {
      const r = byId[entry.item.client_id];
      if (!r || r.retry) {
        // Unanswered, or the server's trouble (not the result's): stays queued.
        wait = (r && r.message) || "the server did not answer for every result";
      } else if (r.status === "accepted" || r.status === "duplicate") {
        gone[entry.item.client_id] = true;
      } else {
        // Sending it again would get the same answer: show it to the canvasser instead.
        gone[entry.item.client_id] = true;
        errors.push({ client_id: entry.item.client_id, label: entry.label, result: entry.result,
                      message: r.message || "refused" });
        unrecord(entry.item);
      }
    }
    // Re-read: results tapped while the batch was out are in storage, not in `batch`.
    save("queue", load("queue", []).filter((e) => !gone[e.item.client_id]));
    save("errors", errors);
    return wait;
  }

  function flush() {
    clearTimeout(retryTimer);
    retryTimer = null;
    const batch = load("queue", []).slice(0, BATCH);
    if (sending || !batch.length) {
      renderStatus();
      return;
    }
    sending = true;
    renderStatus();
    fetch(root.dataset.apiUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ results: batch.map((e) => e.item) }),
    })
      .then((resp) => resp.json().catch(() => ({})).then((body) => ({ status: resp.status, body: body })))
      .then((r) => {
        if (r.status !== 200 || !Array.isArray(r.body.results)) {
          const why = r.body.detail || (r.status === 403 ? "the server refused: reload this page (log in again if it asks)"
            : "the server answered " + r.status);
          throw new Error(why);
        }
        problem = settle(batch, r.body.results);
        if (problem) {
          retryLater();
        } else {
          retryDelay = RETRY_FIRST_MS;
        }
      })
      .catch((err) => {
        problem = navigator.onLine === false || err instanceof TypeError ? "no connection: will retry" : err.message;
        retryLater();
      })
      .finally(() => {
        sending = false;
        render();
        if (!retryTimer && load("queue", []).length) {
          flush(); // more than one batch waiting
        }
      });
  }

  // -- drawing -------------------------------------------------------------------------
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") {
        e.className = attrs[k];
      } else {
        e.setAttribute(k, attrs[k]);
      }
    }
    if (text !== undefined && text !== null) {
      e.textContent = text; // never innerHTML: names and addresses are data
    }
    return e;
  }

  function fill(parent, children) {
    parent.replaceChildren(...children);
  }

  function renderStatus() {
    const n = load("queue", []).length;
    const status = $("cv-status");
    status.textContent = n === 0 ? "all sent"
      : n + (n === 1 ? " result" : " results") + " waiting to send" + (sending ? " (sending…)" : "")
        + (problem ? " · " + problem : "");
    if (storageBroken) {
      status.textContent += " · this phone cannot keep results: keep the page open until all are sent";
    }
    status.className = "cv-status " + (n === 0 ? "cv-ok" : "cv-waiting");
    const errors = load("errors", []);
    const list = $("cv-errors");
    list.hidden = !errors.length;
    fill(list, errors.map((e) => {
      const li = el("li", {}, e.label + " — " + e.result + ": not recorded, " + e.message + " ");
      li.append(el("button", { type: "button", "data-action": "dismiss", "data-id": e.client_id }, "OK"));
      return li;
    }));
  }

  // A toggle button (a person, an answer, an activist code): aria-pressed shows it is on.
  function choice(action, attrs, label, on) {
    const cls = "cv-choice" + (attrs.class ? " " + attrs.class : "");
    return el("button", Object.assign({}, attrs, { type: "button", "data-action": action,
                                                   "aria-pressed": String(on), class: cls }), label);
  }

  function renderDoor(mine) {
    const door = data.doors[pos];
    $("cv-door-no").textContent = "Door " + (pos + 1) + " of " + data.doors.length
      + (door.city ? " · " + door.city + " " + door.zip5 : "");
    $("cv-address").textContent = door.address || "(no address)";
    $("cv-unit").hidden = !door.unit;
    $("cv-unit").textContent = door.unit ? "Unit " + door.unit : "";
    $("cv-who-hint").textContent = door.persons.length > 1 ? "Tap who you are talking to:" : "";
    fill($("cv-people"), door.persons.map((p) => {
      const b = choice("person", { "data-id": p.person_id, class: "cv-person" }, "", p.person_id === selected);
      b.append(el("span", { class: "cv-person-name" }, p.name));
      if (p.age) {
        b.append(el("span", { class: "cv-person-age" }, "age " + p.age));
      }
      const last = latestOf(p, mine);
      if (last) {
        b.append(el("span", { class: "badge" }, last.label));
      }
      return b;
    }));
    const person = door.persons.find((p) => p.person_id === selected);
    $("cv-result-for").textContent = "Result for " + (person ? person.name : "");
    fill($("cv-results"), data.result_codes.filter((c) => c.code !== data.nobody_home).map((c) =>
      el("button", { type: "button", class: "cv-big cv-result", "data-action": "result", "data-code": c.code },
         c.label)));
    $("cv-nobody-home").hidden = !codeOf(data.nobody_home);
    $("cv-nobody-home").textContent = Object.keys(visit).length ? "Nobody else home" : "Nobody home";
    renderScript();
  }

  function renderScript() {
    const s = data.script;
    $("cv-script").hidden = !s;
    if (!s) {
      return;
    }
    $("cv-intro").textContent = s.intro;
    $("cv-closing").textContent = s.closing;
    fill($("cv-questions"), s.questions.map((q) => {
      const box = el("fieldset", { class: "cv-question" });
      box.append(el("legend", {}, q.text));
      const row = el("div", { class: "cv-choices" });
      row.append(...q.responses.map((r) =>
        choice("answer", { "data-q": q.code, "data-r": r.code }, r.label, answers[q.code] === r.code)));
      box.append(row);
      return box;
    }));
    $("cv-codes-block").hidden = !s.activist_codes.length;
    fill($("cv-codes"), s.activist_codes.map((name) => choice("code", { "data-name": name }, name, !!codes[name])));
    $("cv-canvassed").hidden = !codeOf(data.canvassed);
  }

  function renderList(mine) {
    fill($("cv-doors"), data.doors.map((d, i) => {
      const done = doorDone(d, mine);
      const b = el("button", { type: "button", "data-action": "jump", "data-index": i,
                               class: "cv-door-item" + (done ? " cv-done-door" : "") + (i === pos ? " cv-here" : "") });
      b.append(el("span", { class: "cv-door-addr" }, (i + 1) + ". " + d.address + (d.unit ? " #" + d.unit : "")));
      b.append(el("span", { class: "small" }, d.persons.map((p) => {
        const last = latestOf(p, mine);
        return p.name + (last ? " (" + last.code + ")" : "");
      }).join(", ")));
      const li = el("li");
      li.append(b);
      return li;
    }));
  }

  function render() {
    renderStatus();
    if (!data) {
      return;
    }
    const mine = recorded();
    const done = data.doors.filter((d) => doorDone(d, mine)).length;
    $("cv-progress").textContent = done + " of " + data.doors.length + " doors done";
    $("cv-loading").hidden = true;
    $("cv-nav").hidden = !data.doors.length;
    if (!data.doors.length) {
      $("cv-loading").hidden = false;
      $("cv-loading").textContent = "This turf has no doors you can see.";
      return;
    }
    $("cv-door").hidden = view !== "door";
    $("cv-finished").hidden = view !== "finished";
    $("cv-list").hidden = view !== "list";
    $("cv-toggle-list").setAttribute("aria-expanded", String(view === "list"));
    $("cv-toggle-list").textContent = view === "list" ? "Back to door" : "All doors";
    $("cv-prev").hidden = $("cv-skip").hidden = view === "list"; // the list is for jumping
    $("cv-prev").disabled = pos <= 0 && view === "door";
    $("cv-skip").disabled = pos >= data.doors.length - 1 && view === "door";
    if (view === "door") {
      renderDoor(mine);
    } else if (view === "list") {
      renderList(mine);
    }
  }

  // -- taps ----------------------------------------------------------------------------
  function selectedPerson() {
    return data.doors[pos].persons.find((p) => p.person_id === selected);
  }

  const actions = {
    person: (b) => { selected = b.dataset.id; render(); },  // ids are text: 64-bit, past JavaScript's exact integers
    result: (b) => { const p = selectedPerson(); if (p) { record([p], codeOf(b.dataset.code)); } },
    nobody: () => record(data.doors[pos].persons.filter((p) => !visit[p.person_id]), codeOf(data.nobody_home)),
    canvassed: () => { const p = selectedPerson(); if (p) { record([p], codeOf(data.canvassed)); } },
    answer: (b) => {
      if (answers[b.dataset.q] === b.dataset.r) {
        delete answers[b.dataset.q]; // tap again to clear
      } else {
        answers[b.dataset.q] = b.dataset.r;
      }
      renderScript();
    },
    code: (b) => {
      if (codes[b.dataset.name]) {
        delete codes[b.dataset.name];
      } else {
        codes[b.dataset.name] = true;
      }
      renderScript();
    },
    prev: () => goTo(view === "door" ? pos - 1 : pos), // from "finished": the last door
    skip: () => goTo(view === "door" ? pos + 1 : pos),
    list: () => { view = view === "list" ? "door" : "list"; render(); window.scrollTo(0, 0); },
    jump: (b) => goTo(Number(b.dataset.index)),
    dismiss: (b) => {
      save("errors", load("errors", []).filter((e) => e.client_id !== b.dataset.id));
      renderStatus();
    },
  };
  $("cv-nobody-home").dataset.action = "nobody";
  $("cv-canvassed").dataset.action = "canvassed";
  $("cv-prev").dataset.action = "prev";
  $("cv-skip").dataset.action = "skip";
  $("cv-toggle-list").dataset.action = "list";

  root.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-action]");
    if (b && data && actions[b.dataset.action]) {
      actions[b.dataset.action](b);
    } else if (b && b.dataset.action === "dismiss") {
      actions.dismiss(b);
    }
  });

  // -- start -----------------------------------------------------------------------------
  // Back at the door this phone was on, unless it has its result: then the next open one.
  function start() {
    if (!data.doors.length) {
      render();
      return;
    }
    const from = pos === null || pos >= data.doors.length ? -1 : pos;
    if (from >= 0 && !doorDone(data.doors[from], recorded())) {
      goTo(from);
      return;
    }
    const open = nextOpen(from);
    if (open < 0) {
      pos = Math.max(from, 0);
      view = "finished";
      render();
    } else {
      goTo(open);
    }
  }

  function fetchTurf() {
    fetch(root.dataset.dataUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then((resp) => resp.json().catch(() => ({})).then((body) => ({ ok: resp.ok, status: resp.status, body: body })))
      .then((r) => {
        if (!r.ok || !Array.isArray(r.body.doors)) {
          throw new Error(r.body.detail || "the server answered " + r.status);
        }
        const first = data === null;
        data = r.body;
        save("turf." + turfId, data);
        if (first) {
          start();
        } else {
          render(); // fresher results from the server; stay at this door
        }
      })
      .catch((err) => {
        if (!data) {
          $("cv-loading").textContent = "Could not load the turf (" + err.message + "). Check the connection and reload.";
        }
      });
  }

  window.addEventListener("online", () => {
    retryDelay = RETRY_FIRST_MS;
    problem = "";
    flush();
  });
  window.addEventListener("offline", () => {
    problem = "offline: results are kept on this phone";
    renderStatus();
  });
  window.addEventListener("storage", () => renderStatus()); // another tab sent or queued

  if (data) {
    start(); // the copy on this phone first; the fresh one replaces it when it comes
  }
  fetchTurf();
  flush(); // results queued before a reload
})();
