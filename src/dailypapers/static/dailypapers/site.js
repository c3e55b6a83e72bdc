// Render the math the server marked (<span class="tex">, see templatetags/papertext.py)
// with the vendored KaTeX, and let clipped abstracts open on click; again after htmx swaps.
// KaTeX (its 280 KB script and its stylesheet) is fetched only once a page holds marked maths.
// Imported TeX is untrusted: maxSize caps any one dimension (\rule{100000em}{...} would make the
// page a million pixels wide), maxExpand caps macro expansion; trust stays off (KaTeX's default).
var KATEX_OPTIONS = { throwOnError: false, maxSize: 10, maxExpand: 500 };
var SITE_SCRIPT = document.currentScript;
var katexLoading = null;
function loadKatex() {
  if (!katexLoading) {
    katexLoading = new Promise(function (resolve) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = SITE_SCRIPT.dataset.katexCss;
      document.head.appendChild(css);
      var js = document.createElement("script");
      js.src = SITE_SCRIPT.dataset.katexJs;
      js.onload = resolve;
      document.head.appendChild(js);
    });
  }
  return katexLoading;
}
function renderMath(root) {
  root.querySelectorAll("span.tex").forEach(function (el) {
    window.katex.render(el.textContent, el, Object.assign({ displayMode: el.dataset.display === "1" }, KATEX_OPTIONS));
  });
}
function enhance(root) {
  if (root.querySelector("span.tex")) {
    if (window.katex) { renderMath(root); } else { loadKatex().then(function () { renderMath(root); }); }
  }
  root.querySelectorAll(".abstract[data-clip]").forEach(function (el) {
    el.title = "Click to expand";
    el.addEventListener("click", function () { el.classList.toggle("open"); });
  });
  // "Copy markdown": the paper as markdown (its .md address) on the clipboard, as on Hugging Face.
  root.querySelectorAll("button.copy-md").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      fetch(button.dataset.src).then(function (r) { return r.text(); })
        .then(function (text) { return navigator.clipboard.writeText(text); })
        .then(function () { button.textContent = "Copied"; }, function () { button.textContent = "Could not copy"; });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { enhance(document); });
document.addEventListener("htmx:afterSettle", function (event) { enhance(event.detail.elt); });
// Search as you type, but an emptied box asks for nothing: the empty query is the daily list,
// which has no results to swap in. (An hx-trigger filter would need eval, which the CSP forbids.)
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail.elt;
  if (form.matches && form.matches("form.search-form") && !form.q.value.trim()) { event.preventDefault(); }
});
// Actions that cannot be undone ask first (e.g. deleting a comment): <form data-confirm="…">.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
});
// The account menu (<details class="user-menu">) closes on a click elsewhere and on Escape.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) { menu.open = false; }
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});
