/* Labels and explanations in English and Korean.
 *
 * Static text carries data-i18n="key" (or data-i18n-placeholder, -title, -aria-label); text
 * written by the script is kept as a key plus parameters so that switching the language
 * rewrites it too.
 * The texts themselves are in messages_en.js and messages_ko.js, one key set each.
 */

import { ENGLISH } from "./messages_en.js";
import { KOREAN } from "./messages_ko.js";

const MESSAGES = { en: ENGLISH, ko: KOREAN };

const listeners = [];
let lang = "en";

function t(key, params) {
  const table = MESSAGES[lang] || MESSAGES.en;
  let text = table[key];
  if (text === undefined) text = MESSAGES.en[key];
  if (text === undefined) return key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) =>
      params[name] === undefined ? whole : String(params[name]));
  }
  return text;
}

/* Write a translatable text into an element and remember it for language switches. */
function put(element, key, params) {
  element.dataset.i18n = key;
  if (params) element.dataset.i18nParams = JSON.stringify(params);
  else delete element.dataset.i18nParams;
  element.textContent = t(key, params);
}

function apply(root) {
  for (const element of (root || document).querySelectorAll("[data-i18n]")) {
    const params = element.dataset.i18nParams ? JSON.parse(element.dataset.i18nParams) : null;
    element.textContent = t(element.dataset.i18n, params);
  }
  for (const element of (root || document).querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  for (const element of (root || document).querySelectorAll("[data-i18n-title]")) {
    element.title = t(element.dataset.i18nTitle);
  }
  for (const element of (root || document).querySelectorAll("[data-i18n-aria-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel));
  }
}

function setLanguage(next) {
  lang = MESSAGES[next] ? next : "en";
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  try {
    localStorage.setItem("lab-lang", lang);
  } catch (error) {
    /* private mode: the choice lasts until the page reloads */
  }
  apply();
  for (const listener of listeners) listener(lang);
}

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && MESSAGES[asked]) return asked;
  try {
    const saved = localStorage.getItem("lab-lang");
    if (saved && MESSAGES[saved]) return saved;
  } catch (error) {
    /* no storage */
  }
  return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export const I18N = {
  t,
  put,
  apply,
  setLanguage,
  initialLanguage,
  onChange: (listener) => listeners.push(listener),
  get lang() {
    return lang;
  },
};
