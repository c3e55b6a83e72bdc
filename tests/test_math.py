import pytest

from dailypapers.papers.templatetags.papertext import math


@pytest.mark.parametrize(
    "text, html",
    [
        (
            "We use $\\alpha$ and $x^2$.",
            'We use <span class="tex" data-display="0">\\alpha</span> and '
            '<span class="tex" data-display="0">x^2</span>.',
        ),
        ("$$E=mc^2$$ shown", '<span class="tex" data-display="1">E=mc^2</span> shown'),
        ("\\(a+b\\) too", '<span class="tex" data-display="0">a+b</span> too'),
        # Prose with prices is not math (pandoc's rule), and \$ is a literal dollar.
        ("costs <$10 in compute, about $1.47 million", "costs &lt;$10 in compute, about $1.47 million"),
        ("price $5 and $6", "price $5 and $6"),
        ("Together, \\$OneMillion-Bench provides", "Together, $OneMillion-Bench provides"),
        # Markup inside and outside math is escaped.
        ("<script>$a<b$</script>", '&lt;script&gt;<span class="tex" data-display="0">a&lt;b</span>&lt;/script&gt;'),
        ("", ""),
    ],
)
def test_math_marks_tex_and_escapes_everything(text, html):
    assert math(text) == html
