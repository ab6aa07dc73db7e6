from __future__ import annotations

from leadrelay.contract import default_text, parse
from leadrelay.contract.render import markdown
from leadrelay.web.markdown import to_html


def test_headings_lists_tables_and_code_become_html() -> None:
    html = to_html(
        "# Title\n\nSome `code` here.\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )

    assert html == (
        "<h1>Title</h1>\n"
        "<p>Some <code>code</code> here.</p>\n"
        "<ul><li>one</li><li>two</li></ul>\n"
        '<div class="scroll"><table><thead><tr><th scope="col">a</th>'
        '<th scope="col">b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr>'
        "</tbody></table></div>"
    )


def test_text_is_escaped_before_any_markup_is_added() -> None:
    html = to_html("## <script>x</script>\n\n- a & b `<i>`\n")

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "a &amp; b <code>&lt;i&gt;</code>" in html


def test_the_whole_default_contract_renders_every_section() -> None:
    html = to_html(markdown(parse(default_text())))

    for heading in ("Stages", "Ideal customer profile", "Handoff to sales", "Losses"):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<tr>") == 7
