from stage.records.text import clean_line, clean_text, word_count


def test_controls_and_bidi_overrides_are_removed_but_text_and_newlines_stay():
    assert clean_text("a\x00b\x1b[31mc\x7f\r\nd\u202eevil\u202c\u2066x\u2069") == "ab[31mc\nd" + "evilx"
    assert clean_text("<script>alert(1)</script>") == "<script>alert(1)</script>"
    assert clean_text("שלום עולם 🦸‍♀️") == "שלום עולם 🦸‍♀️"


def test_text_is_nfc_normalised_and_trimmed():
    assert clean_text("  cafe\u0301  \n\n  ") == "café"


def test_lines_collapse_whitespace():
    assert clean_line(" Ada \n  Lovelace\t") == "Ada Lovelace"


def test_word_count():
    assert word_count("one  two\nthree") == 3 and word_count("") == 0
