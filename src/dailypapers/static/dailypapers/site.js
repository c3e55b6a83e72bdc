// Render the math the server marked (<span class="tex">, see templatetags/papertext.py)
// with the vendored KaTeX, and let clipped abstracts open on click; again after htmx swaps.
// Imported TeX is untrusted: maxSize caps any one dimension (\rule{100000em}{...} would make the
// page a million pixels wide), maxExpand caps macro expansion; trust stays off (KaTeX's default).
var KATEX_OPTIONS = { throwOnError: false, maxSize: 10, maxExpand: 500 };
function enhance(root) {
  if (window.katex) {
    root.querySelectorAll("span.tex").forEach(function (el) {
      window.katex.render(el.textContent, el, Object.assign({ displayMode: el.dataset.display === "1" }, KATEX_OPTIONS));
    });
  }
  root.querySelectorAll(".abstract[data-clip]").forEach(function (el) {
    el.title = "Click to expand";
    el.addEventListener("click", function () { el.classList.toggle("open"); });
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
