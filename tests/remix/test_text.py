"""Remix text with Pillow: long stories wrap inside their box, and what cannot fit is cut visibly."""

from __future__ import annotations

import numpy as np

from stage.remix import text


def test_long_text_wraps_within_the_width_and_keeps_every_word():
    face = text.font(40, bold=True)
    story = "Tell no one about this cape " * 8
    lines = text.wrap(story, face, 600)
    assert len(lines) > 3 and all(face.getlength(line) <= 600 for line in lines)
    assert " ".join(lines).split() == story.split()


def test_a_word_longer_than_a_line_is_cut_into_pieces():
    face = text.font(40)
    lines = text.wrap("a" * 200, face, 300)
    assert "".join(lines) == "a" * 200 and all(face.getlength(line) <= 300 for line in lines)


def test_fit_shrinks_the_font_and_cuts_with_an_ellipsis_when_nothing_fits():
    short_face, short = text.fit("A cape.", 800, 400, 80, 20)
    long_face, long = text.fit("word " * 2000, 800, 400, 80, 20)
    assert short_face.size == 80 and short == ["A cape."]
    assert long_face.size == 20 and long[-1].endswith("…")
    assert len(long) * text.line_height(long_face) <= 400


def test_caption_strips_and_cards_draw_light_letters_on_dark():
    strip, top = text.caption_strip(["Tell no one about this cape."], 1280, 720)
    assert strip.width == 1280 and top % 2 == 0 and strip.height % 2 == 0 and top + strip.height < 720
    pixels = np.asarray(strip)
    assert (pixels[..., 3] == 255).sum() > 500, "opaque letters on the translucent band"
    card = np.asarray(text.title_card("Take 2", "performed by Ada", 1280, 720))
    assert card.shape == (720, 1280, 3) and (card > 200).all(axis=-1).sum() > 1000
