// Logging out forgets what pages kept on this device (the canvass page keeps a turf's
// names and addresses so it works without a connection): nothing of it stays behind
// for the next person to use the phone. Results still waiting to be sent are kept:
// losing a canvasser's work is worse, and they hold ids and codes, not names.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("logout");
  if (!form) {
    return;
  }
  form.addEventListener("submit", () => {
    try {
      Object.keys(localStorage)
        .filter((k) => k.startsWith("unionhall.") && !k.endsWith(".queue"))
        .forEach((k) => localStorage.removeItem(k));
    } catch (e) {
      // storage may be disabled; nothing was kept then
    }
  });
});
