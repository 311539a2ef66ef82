// Signing in and unlocking, and what the worker is told after the device wiped itself.
import { errorSummary, esc, show } from "/markup.js";
import { label } from "/visit.js";
import { WHERE_KEY, device, render } from "/app.js";

// ---------- sign in, unlock ----------
// What the worker is told after the device wiped itself, in true words.
export function noticeBlock() {
  const notice = device.guardState().notice;
  if (!notice) return "";
  const lost = notice.unsent > 0
    ? ` ${notice.unsent} record${notice.unsent === 1 ? "" : "s"} that had not reached the server ${notice.unsent === 1 ? "was" : "were"} wiped with ${notice.unsent === 1 ? "it" : "them"} and cannot be recovered from this device.`
    : " Every record on it had reached the server, so nothing was lost.";
  const what = {
    signedOut: "You signed out, so Doorstep wiped every record from this device.",
    revoked: "This device was revoked by an administrator, so Doorstep wiped every record from it.",
    pinWipe: "Too many wrong PINs were entered, so Doorstep wiped every record from this device.",
    offlineWipe: "This device had not reached the server for too long, so Doorstep wiped every record from it.",
  }[notice.kind] ?? "Doorstep wiped every record from this device.";
  return `<div class="notification notification--important" id="wipe-notice" data-notice="${esc(notice.kind)}" role="region" aria-labelledby="wipe-notice-title">
    <h2 id="wipe-notice-title">Records wiped from this device</h2>
    <p class="body">${esc(what)}${esc(lost)} Nothing is stored on this device now: there is no PIN to unlock.</p>
    <button type="button" class="button button--secondary" data-action="dismiss-notice">I understand</button>
  </div>`;
}

export function signInPage(errors = [], values = {}) {
  show(`
    ${errorSummary(errors)}
    ${noticeBlock()}
    <h1>Sign in to Doorstep</h1>
    <p class="body">Sign in once while you have signal. You will choose a PIN that unlocks Doorstep on this device, with or without signal.</p>
    <form id="sign-in-form" novalidate>
      ${input("username", "Username", values.username, "text", "username", errors)}
      ${input("password", "Password", "", "password", "current-password", errors)}
      ${input("pin", "Choose a PIN for this device", "", "password", "new-password", errors, "At least 6 characters. You will need it to unlock Doorstep.")}
      ${input("pin-confirm", "Enter the PIN again", "", "password", "new-password", errors)}
      <button type="submit" class="button">Sign in</button>
    </form>`, "Sign in");
}

export function input(id, label, value, type, autocomplete, errors, hint = "") {
  const error = errors.find((e) => e.href === `#${id}`);
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return `<div class="form-group ${error ? "form-group--error" : ""}">
    <label class="label" for="${id}">${esc(label)}</label>
    ${hint ? `<div class="hint" id="${id}-hint">${esc(hint)}</div>` : ""}
    ${error ? `<p class="error-message" id="${id}-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
    <input class="input input--width-10 ${error ? "input--error" : ""}" id="${id}" name="${id}" type="${type}" autocomplete="${autocomplete}" spellcheck="false" value="${esc(value ?? "")}" ${describedBy ? `aria-describedby="${describedBy}"` : ""}>
  </div>`;
}

export async function submitSignIn(form) {
  const values = Object.fromEntries(new FormData(form));
  const errors = [];
  if (!values.username) errors.push({ href: "#username", message: "Enter your username" });
  if (!values.password) errors.push({ href: "#password", message: "Enter your password" });
  if ((values.pin ?? "").length < 6) errors.push({ href: "#pin", message: "Your PIN must be at least 6 characters" });
  else if (values.pin !== values["pin-confirm"]) errors.push({ href: "#pin-confirm", message: "The PINs do not match" });
  if (errors.length) return signInPage(errors, values);
  form.querySelector("button").disabled = true;
  try {
    await device.signIn(values.username, values.password, values.pin);
    location.hash = "#/";
    render();
  } catch (error) {
    signInPage([{ href: "#username", message: error.message ?? String(error) }], values);
  }
}

export function unlockPage(errors = []) {
  rememberWhereIfLocked();
  const guard = device.guardState();
  const pins = guard.pin;
  const warning = guard.contactDaysLeft;
  const tries = pins.failures > 0
    ? `<p class="body" id="pin-tries">${pins.beforeWait > 0 ? `After ${pins.beforeWait} more wrong PIN${pins.beforeWait === 1 ? "" : "s"} you will have to wait before trying again. ` : "You have to wait after each wrong PIN now. "}After ${pins.beforeWipe} more wrong PIN${pins.beforeWipe === 1 ? "" : "s"}, Doorstep wipes every record from this device.</p>`
    : "";
  show(`
    ${errorSummary(errors)}
    <h1>Unlock Doorstep</h1>
    ${warning !== null ? `<div class="warning" id="contact-warning"><p class="body">This device has not reached the server for a long time. Connect to the server within ${warning} day${warning === 1 ? "" : "s"}, or Doorstep will wipe every record from it the next time it opens.</p></div>` : ""}
    <p class="body">Your records on this device are locked. Enter your PIN to unlock them. This works without signal.</p>
    ${tries}
    <form id="unlock-form" novalidate>
      ${input("pin", "PIN", "", "password", "current-password", errors)}
      <button type="submit" class="button">Unlock</button>
    </form>
    <h2>Not you, or forgotten your PIN?</h2>
    <p class="body">Signing out wipes every record from this device. Records not yet sent to the server will be lost.</p>
    <button type="button" class="button button--warning" data-action="sign-out">Sign out and wipe this device</button>`, "Unlock");
}

// The route is in the address; the focus and scroll were saved when the app locked.
export function rememberWhereIfLocked() {
  if (location.hash && !sessionStorage.getItem(WHERE_KEY)) {
    try { sessionStorage.setItem(WHERE_KEY, JSON.stringify({ hash: location.hash, focus: null, scroll: 0 })); } catch { /* private mode */ }
  }
}

export async function submitUnlock(form) {
  const pin = new FormData(form).get("pin") ?? "";
  if (!pin) return unlockPage([{ href: "#pin", message: "Enter your PIN" }]);
  form.querySelector("button").disabled = true;
  try {
    await device.unlock(pin);
    render();
  } catch (error) {
    // Too many wrong PINs wipe the device: then the sign-in page says so.
    if (device.status() === "new") return render();
    unlockPage([{ href: "#pin", message: error.message ?? String(error) }]);
  }
}
