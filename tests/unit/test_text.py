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


def test_zero_width_only_text_is_blank_and_its_invisible_ends_are_stripped():
    from stage.records.text import is_blank
    zero_width = "\u200b\u200c\u200d\ufeff\u2060"
    assert is_blank(zero_width) and is_blank(clean_text(zero_width)) and is_blank(clean_line(zero_width))
    assert is_blank(" \u3164\u115f\ufe0f\u0301\U000e0041 ") and is_blank("")
    assert clean_text("\ufeff\u200bA cape.\u2060\u200b") == "A cape."
    assert clean_line("\u200b Ada \u200d") == "Ada"


def test_legitimate_invisibles_inside_real_text_survive():
    from stage.records.text import is_blank
    family = "👨\u200d👩\u200d👧"
    assert clean_text(family) == family and not is_blank(family)
    assert clean_line("Ada ❤\ufe0f") == "Ada ❤\ufe0f", "the variation selector at the end stays"
    hebrew = "שלום!\u200f"
    assert clean_text(hebrew) == hebrew, "an RLM at the end keeps the punctuation right-to-left"
    assert clean_text("a\u200bb") == "a\u200bb", "inside a text nothing is removed"
