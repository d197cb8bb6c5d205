import { backoffMs, sleep } from "./helpers.js";
import { I18N } from "./i18n.js";

export const Access = {
  token: null,
  canChange: false,

  readToken() {
    // The teacher's address carries the token in its fragment (#token=...), which the
    // browser never sends to any server: it reaches no log and no Referer header.
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    let token = fragment.get("token");
    if (token) {
      // Keep it for reloads of this tab, and take it out of the address bar: the page is
      // projected, and the class should not be able to read the teacher's token off the wall.
      try {
        sessionStorage.setItem("lab-token", token);
      } catch (error) {
        /* no storage: the token lasts until the page reloads */
      }
      fragment.delete("token");
      const rest = fragment.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    } else {
      try {
        token = sessionStorage.getItem("lab-token");
      } catch (error) {
        token = null;
      }
    }
    this.token = token;
  },

  headers() {
    const headers = { "Content-Type": "application/json" };
    if (this.token) headers["X-Lab-Token"] = this.token;
    return headers;
  },

  /* Asks GET /access whether our token (if any) lets us change the server: a question that
   * changes nothing and is never refused. */
  async probe() {
    for (let failures = 1; ; failures += 1) {
      try {
        const headers = this.token ? { "X-Lab-Token": this.token } : {};
        const response = await fetch("access", { headers, cache: "no-store" });
        const body = await response.json();
        if (body.can_change) this.set(true, "access.teacher");
        else if (body.because === "wrong token") this.set(false, "access.badToken");
        else this.set(false, "access.readonly");
        return;
      } catch (error) {
        await sleep(backoffMs(failures));
      }
    }
  },

  set(canChange, key) {
    this.canChange = canChange;
    const checking = key === "access.checking";
    const badge = document.getElementById("access");
    badge.dataset.state = checking ? "checking" : canChange ? "teacher" : "readonly";
    I18N.put(badge, key);
    for (const element of document.querySelectorAll("[data-server]")) {
      element.disabled = !canChange;
    }
    document.getElementById("readonly-note").hidden = canChange || checking;
  },
};
