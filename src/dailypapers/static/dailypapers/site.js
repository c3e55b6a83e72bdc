// Render $…$ and $$…$$ math with the vendored KaTeX, and let clipped abstracts open on click.
document.addEventListener("DOMContentLoaded", function () {
  if (window.renderMathInElement) {
    document.querySelectorAll(".math").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
      });
    });
  }
  document.querySelectorAll(".abstract[data-clip]").forEach(function (el) {
    el.title = "Click to expand";
    el.addEventListener("click", function () { el.classList.toggle("open"); });
  });
});
