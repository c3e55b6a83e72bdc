// Render the math the server marked (<span class="tex">, see templatetags/papertext.py)
// with the vendored KaTeX, and let clipped abstracts open on click; again after htmx swaps.
function enhance(root) {
  if (window.katex) {
    root.querySelectorAll("span.tex").forEach(function (el) {
      window.katex.render(el.textContent, el, { displayMode: el.dataset.display === "1", throwOnError: false });
    });
  }
  root.querySelectorAll(".abstract[data-clip]").forEach(function (el) {
    el.title = "Click to expand";
    el.addEventListener("click", function () { el.classList.toggle("open"); });
  });
}
document.addEventListener("DOMContentLoaded", function () { enhance(document); });
document.addEventListener("htmx:afterSettle", function (event) { enhance(event.detail.elt); });
