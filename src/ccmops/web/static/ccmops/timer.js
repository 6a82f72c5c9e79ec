// The patient page's timer. The server owns the timer; this page only asks it and shows it. Every tab of
// the same user shows the same timer, so time is counted once however many tabs are open.
(function () {
  const box = document.getElementById("timer");
  if (!box) return;
  const patientId = box.dataset.patient;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const show = box.querySelector("[data-elapsed]");
  const stateLabel = box.querySelector("[data-state]");
  const idleBox = box.querySelector("[data-idle]");
  let timer = null, fetchedAt = 0, active = false, pending = false;
  // Answers are shown in the order their requests were made: a slow read of the timer started before a click
  // on Start must not, arriving after it, show the timer as stopped.
  let issued = 0, applied = 0;

  async function call(method, url, body) {
    const order = ++issued;
    const r = await fetch(url, {method, headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                                body: body ? JSON.stringify(body) : undefined, credentials: "same-origin"});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { box.querySelector("[data-error]").textContent = data.detail || ("Error " + r.status); return null; }
    box.querySelector("[data-error]").textContent = "";
    return {order, data};
  }
  function set(answer) {
    if (!answer || answer.order < applied) return;
    applied = answer.order;
    const data = answer.data;
    timer = data.timer || null;
    fetchedAt = Date.now();
    render();
    box.querySelector("[data-notice]").textContent = data.notice || "";
    if (data.entry) { location.reload(); }
  }
  function fmt(s) { const m = Math.floor(s / 60), r = s % 60; return m + ":" + String(r).padStart(2, "0"); }
  function render() {
    const here = timer && String(timer.patient_id) === patientId;
    box.dataset.status = timer ? (here ? timer.state : "elsewhere") : "none";
    if (!timer) { show.textContent = "0:00"; stateLabel.textContent = "No timer running"; idleBox.hidden = true; return; }
    if (!here) { stateLabel.textContent = "Your timer is open on " + timer.patient; show.textContent = fmt(timer.elapsed_seconds); return; }
    let s = timer.elapsed_seconds;
    if (timer.state === "running" && !timer.idle) s += Math.floor((Date.now() - fetchedAt) / 1000);
    show.textContent = fmt(s);
    stateLabel.textContent = timer.state === "running" ? "Running" : "Paused";
    idleBox.hidden = !timer.idle;
    if (timer.idle) idleBox.querySelector("[data-idle-minutes]").textContent = timer.idle.minutes;
  }
  box.addEventListener("click", async (ev) => {
    const action = ev.target.dataset.action;
    if (!action) return;
    ev.preventDefault();
    if (action === "start") {
      set(await call("POST", `/api/patients/${patientId}/timer/start`, {
        program: box.querySelector("[name=timer_program]").value, activity: box.querySelector("[name=timer_activity]").value}));
    } else if (timer) {
      const body = action === "keep" ? {keep: true} : action === "drop" ? {keep: false} : action === "stop" ? {note: ""} : undefined;
      const path = action === "keep" || action === "drop" ? "idle" : action;
      set(await call("POST", `/api/timer/${timer.id}/${path}`, body));
    }
  });
  ["mousemove", "keydown", "click", "scroll"].forEach((e) => document.addEventListener(e, () => { active = true; }, {passive: true}));
  async function beat() {
    if (pending) return;
    pending = true;
    try {
      if (timer && timer.state !== "stopped") {
        const data = await call("POST", `/api/timer/${timer.id}/heartbeat`, {active: active && !document.hidden});
        if (data) set(data); else set(await call("GET", "/api/timer"));
        active = false;
      } else {
        set(await call("GET", "/api/timer"));
      }
    } finally { pending = false; }
  }
  document.addEventListener("keydown", (e) => {
    if (e.altKey && e.key === "t") { box.querySelector(timer ? "[data-action=stop]" : "[data-action=start]").click(); }
  });
  set(null); call("GET", "/api/timer").then(set);
  setInterval(render, 1000);
  setInterval(beat, 15000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) beat(); });
})();
