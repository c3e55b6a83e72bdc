// Render the math the server marked (<span class="tex">, see templatetags/papertext.py)
// with the vendored KaTeX, and let clipped abstracts open on click.
document.addEventListener("DOMContentLoaded", function () {
  if (window.katex) {
    document.querySelectorAll("span.tex").forEach(function (el) {
      window.katex.render(el.textContent, el, { displayMode: el.dataset.display === "1", throwOnError: false });
    });
  }
  document.querySelectorAll(".abstract[data-clip]").forEach(function (el) {
    el.title = "Click to expand";
    el.addEventListener("click", function () { el.classList.toggle("open"); });
  });
});
